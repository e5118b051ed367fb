package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListWebhookEndpoints pages through the caller's integration's endpoints.
func (s *Server) ListWebhookEndpoints(ctx context.Context, req api.ListWebhookEndpointsRequestObject) (api.ListWebhookEndpointsResponseObject, error) {
	p := principal(ctx)
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.Webhooks.List(ctx, p.MerchantID, p.IntegrationID, limit, cursor)
	if err != nil {
		return nil, err
	}
	data := api.WebhookEndpointList{Items: make([]api.WebhookEndpoint, len(page.Items)), NextCursor: strOrNull(page.NextCursor), HasMore: page.HasMore()}
	for i, e := range page.Items {
		data.Items[i] = apiWebhookEndpoint(e)
	}
	return api.ListWebhookEndpoints200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
