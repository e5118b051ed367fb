package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListWebhookDeliveries pages through an endpoint's delivery attempts.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	p := principal(ctx)
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.Webhooks.Deliveries(ctx, p.MerchantID, p.IntegrationID, req.Id, limit, cursor)
	if err != nil {
		return nil, err
	}
	data := api.WebhookDeliveryList{Items: make([]api.WebhookDelivery, len(page.Items)), NextCursor: strOrNull(page.NextCursor), HasMore: page.HasMore()}
	for i, d := range page.Items {
		data.Items[i] = apiWebhookDelivery(d)
	}
	return api.ListWebhookDeliveries200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
