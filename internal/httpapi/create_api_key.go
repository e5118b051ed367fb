package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateApiKey is not built yet.
func (s *Server) CreateApiKey(_ context.Context, _ api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	return nil, notImplemented("createApiKey")
}
