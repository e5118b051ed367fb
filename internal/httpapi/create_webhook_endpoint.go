package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/webhooks"
)

// CreateWebhookEndpoint registers an endpoint of the caller's integration.
func (s *Server) CreateWebhookEndpoint(ctx context.Context, req api.CreateWebhookEndpointRequestObject) (api.CreateWebhookEndpointResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	types := make([]events.Type, len(d.EventTypes))
	for i, t := range d.EventTypes {
		types[i] = events.Type(t)
	}
	e, err := s.Webhooks.Create(ctx, webhooks.NewEndpoint{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, URL: d.Url, EventTypes: types, Description: valueOf(d.Description),
	})
	if err != nil {
		return nil, err
	}
	return api.CreateWebhookEndpoint200JSONResponse{Ok: true, Data: apiWebhookEndpointWithSecret(e), Meta: s.meta(ctx)}, nil
}
