package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// DeleteApiKey is not built yet.
func (s *Server) DeleteApiKey(_ context.Context, _ api.DeleteApiKeyRequestObject) (api.DeleteApiKeyResponseObject, error) {
	return nil, notImplemented("deleteApiKey")
}
