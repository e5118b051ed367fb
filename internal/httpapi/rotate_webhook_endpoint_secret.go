package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// RotateWebhookEndpointSecret issues a new secret; the previous one signs
// beside it for a day.
func (s *Server) RotateWebhookEndpointSecret(ctx context.Context, req api.RotateWebhookEndpointSecretRequestObject) (api.RotateWebhookEndpointSecretResponseObject, error) {
	p := principal(ctx)
	e, err := s.Webhooks.RotateSecret(ctx, p.MerchantID, p.IntegrationID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookEndpointSecret200JSONResponse{Ok: true, Data: apiWebhookEndpointWithSecret(e), Meta: s.meta(ctx)}, nil
}
