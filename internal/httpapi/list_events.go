package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/events"
)

// ListEvents pages through the events the caller sees, oldest first.
func (s *Server) ListEvents(ctx context.Context, req api.ListEventsRequestObject) (api.ListEventsResponseObject, error) {
	q, p := req.Params, principal(ctx)
	limit, cursor := s.pageOf(ctx, q.Limit, q.Cursor)
	var types []events.Type
	if q.Type != nil {
		for _, t := range *q.Type {
			types = append(types, events.Type(t))
		}
	}
	page, err := s.Events.List(ctx, events.Query{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, Types: types,
		CreatedAfter: q.CreatedAfter, CreatedBefore: q.CreatedBefore, Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return nil, err
	}
	data := api.EventList{Items: make([]api.Event, len(page.Items)), NextCursor: strOrNull(page.NextCursor), HasMore: page.More}
	for i, e := range page.Items {
		if data.Items[i], err = apiEvent(e); err != nil {
			return nil, err
		}
	}
	return api.ListEvents200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
