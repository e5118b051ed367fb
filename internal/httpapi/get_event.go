package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetEvent reads one event the caller sees.
func (s *Server) GetEvent(ctx context.Context, req api.GetEventRequestObject) (api.GetEventResponseObject, error) {
	p := principal(ctx)
	e, err := s.Events.Get(ctx, p.MerchantID, p.IntegrationID, req.Id)
	if err != nil {
		return nil, err
	}
	out, err := apiEvent(e)
	if err != nil {
		return nil, err
	}
	return api.GetEvent200JSONResponse{Ok: true, Data: out, Meta: s.meta(ctx)}, nil
}
