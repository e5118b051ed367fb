package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// RevokeApiKey is not built yet.
func (s *Server) RevokeApiKey(_ context.Context, _ api.RevokeApiKeyRequestObject) (api.RevokeApiKeyResponseObject, error) {
	return nil, notImplemented("revokeApiKey")
}
