package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListSandboxMessages reads back the SMS the sandbox delivered to a phone of
// the caller's merchant (sandbox environment only).
func (s *Server) ListSandboxMessages(ctx context.Context, req api.ListSandboxMessagesRequestObject) (api.ListSandboxMessagesResponseObject, error) {
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.SandboxMessages.List(ctx, principal(ctx).MerchantID, req.Params.Phone, limit, cursor)
	if err != nil {
		return nil, err
	}
	items := make([]api.SandboxMessage, len(page.Items))
	for i, m := range page.Items {
		items[i] = apiSandboxMessage(m)
	}
	return api.ListSandboxMessages200JSONResponse{Ok: true, Meta: s.meta(ctx), Data: api.SandboxMessageList{
		Items: items, NextCursor: strOrNull(page.NextCursor), HasMore: page.NextCursor != "",
	}}, nil
}
