package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
)

// CreateApiKey provisions a key for the caller's integration; the raw key
// is in this response only.
func (s *Server) CreateApiKey(ctx context.Context, req api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	d := req.Body.Data
	in := auth.NewKey{Name: d.Name, Scopes: domainScopes(d.Scopes), ExpiresAt: d.ExpiresAt}
	if d.Role != nil {
		in.Role = auth.Role(*d.Role)
	}
	issued, err := s.Auth.CreateKey(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateApiKey200JSONResponse{Ok: true, Data: apiKeyWithSecret(issued), Meta: s.meta(ctx)}, nil
}
