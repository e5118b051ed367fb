package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// RegenerateApiKey revokes a key and returns its replacement, raw key
// included this once.
func (s *Server) RegenerateApiKey(ctx context.Context, req api.RegenerateApiKeyRequestObject) (api.RegenerateApiKeyResponseObject, error) {
	out, err := s.Auth.RegenerateKey(ctx, principal(ctx), req.KeyId)
	if err != nil {
		return nil, err
	}
	return api.RegenerateApiKey200JSONResponse{Ok: true, Data: apiKeyWithSecret(out.Issued), Meta: s.meta(ctx)}, nil
}
