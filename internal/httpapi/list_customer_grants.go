package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/grants"
)

// ListCustomerGrants pages through a customer's grants with their history.
func (s *Server) ListCustomerGrants(ctx context.Context, req api.ListCustomerGrantsRequestObject) (api.ListCustomerGrantsResponseObject, error) {
	limit, cursor := s.pageOf(ctx, req.Params.Limit, req.Params.Cursor)
	page, err := s.Grants.ListForCustomer(ctx, grants.ListQuery{
		MerchantID: principal(ctx).MerchantID, CustomerID: req.CustomerId,
		State: grants.State(valueOf(req.Params.State)), Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return nil, err
	}
	data := api.GrantList{Items: apiGrants(page.Items), NextCursor: strOrNull(page.NextCursor), HasMore: page.NextCursor != ""}
	return api.ListCustomerGrants200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
