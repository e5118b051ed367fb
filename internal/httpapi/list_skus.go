package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/topup"
)

// ListSkus pages through the catalog, most recently updated first.
func (s *Server) ListSkus(ctx context.Context, req api.ListSkusRequestObject) (api.ListSkusResponseObject, error) {
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.Topup.ListSkus(ctx, topup.SkuQuery{MerchantID: principal(ctx).MerchantID, Limit: limit, Cursor: cursor})
	if err != nil {
		return nil, err
	}
	data := api.SkuList{Items: make([]api.Sku, len(page.Items)), NextCursor: strOrNull(page.NextCursor), HasMore: page.NextCursor != ""}
	for i, sku := range page.Items {
		data.Items[i] = apiSku(sku)
	}
	return api.ListSkus200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
