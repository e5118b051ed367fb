package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// DeleteApiKey hard-deletes a key of the caller's integration.
func (s *Server) DeleteApiKey(ctx context.Context, req api.DeleteApiKeyRequestObject) (api.DeleteApiKeyResponseObject, error) {
	if err := s.Auth.DeleteKey(ctx, principal(ctx), req.KeyId); err != nil {
		return nil, err
	}
	return api.DeleteApiKey200JSONResponse{Ok: true, Data: api.DeletedApiKey{Id: req.KeyId, Deleted: true}, Meta: s.meta(ctx)}, nil
}
