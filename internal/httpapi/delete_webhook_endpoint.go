package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// DeleteWebhookEndpoint deletes an endpoint of the caller's integration.
func (s *Server) DeleteWebhookEndpoint(ctx context.Context, req api.DeleteWebhookEndpointRequestObject) (api.DeleteWebhookEndpointResponseObject, error) {
	p := principal(ctx)
	e, err := s.Webhooks.Delete(ctx, p.MerchantID, p.IntegrationID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.DeleteWebhookEndpoint200JSONResponse{Ok: true, Data: api.DeletedWebhookEndpoint{Endpoint: apiWebhookEndpoint(e)}, Meta: s.meta(ctx)}, nil
}
