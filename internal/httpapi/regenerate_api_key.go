package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// RegenerateApiKey is not built yet.
func (s *Server) RegenerateApiKey(_ context.Context, _ api.RegenerateApiKeyRequestObject) (api.RegenerateApiKeyResponseObject, error) {
	return nil, notImplemented("regenerateApiKey")
}
