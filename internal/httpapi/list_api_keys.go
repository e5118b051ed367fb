package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListApiKeys pages through the caller's integration's keys, newest first.
func (s *Server) ListApiKeys(ctx context.Context, req api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.Auth.ListKeys(ctx, principal(ctx), limit, cursor)
	if err != nil {
		return nil, err
	}
	data := api.ApiKeyList{Items: make([]api.ApiKey, len(page.Items)), HasMore: page.HasMore()}
	for i, k := range page.Items {
		data.Items[i] = apiKey(k)
	}
	if page.NextCursor != "" {
		data.NextCursor = &page.NextCursor
	}
	return api.ListApiKeys200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
