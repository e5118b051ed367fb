package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/transactions"
)

// ListTransactions pages through the caller's integration's transactions.
func (s *Server) ListTransactions(ctx context.Context, req api.ListTransactionsRequestObject) (api.ListTransactionsResponseObject, error) {
	if err := s.requireOwnIntegration(ctx, req.IntegrationId); err != nil {
		return nil, err
	}
	q := req.Params
	limit, cursor := s.pageOf(ctx, q.Limit, q.Cursor)
	page, err := s.Transactions.List(ctx, transactions.Query{
		MerchantID: principal(ctx).MerchantID, IntegrationID: req.IntegrationId,
		CustomerID: valueOf(q.CustomerId), WalletID: valueOf(q.WalletId), Type: ledger.Type(valueOf(q.Type)),
		CreatedAfter: q.CreatedAfter, CreatedBefore: q.CreatedBefore, Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return nil, err
	}
	data := api.TransactionList{Items: make([]api.Transaction, len(page.Items)), NextCursor: strOrNull(page.NextCursor), HasMore: page.NextCursor != ""}
	for i, t := range page.Items {
		data.Items[i] = apiTransaction(t)
	}
	return api.ListTransactions200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
