package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetCapabilities tells the caller what its credential can do right now.
func (s *Server) GetCapabilities(ctx context.Context, _ api.GetCapabilitiesRequestObject) (api.GetCapabilitiesResponseObject, error) {
	data, err := s.capabilities(principal(ctx))
	if err != nil {
		return nil, err
	}
	return api.GetCapabilities200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
