package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// RevokeApiKey soft-revokes a key of the caller's integration.
func (s *Server) RevokeApiKey(ctx context.Context, req api.RevokeApiKeyRequestObject) (api.RevokeApiKeyResponseObject, error) {
	k, err := s.Auth.RevokeKey(ctx, principal(ctx), req.KeyId)
	if err != nil {
		return nil, err
	}
	return api.RevokeApiKey200JSONResponse{Ok: true, Data: api.RevokedApiKey{Key: apiKey(k)}, Meta: s.meta(ctx)}, nil
}
