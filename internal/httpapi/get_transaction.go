package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetTransaction reads one of the caller's integration's transactions with
// its ledger entries.
func (s *Server) GetTransaction(ctx context.Context, req api.GetTransactionRequestObject) (api.GetTransactionResponseObject, error) {
	if err := s.requireOwnIntegration(ctx, req.IntegrationId); err != nil {
		return nil, err
	}
	t, err := s.Transactions.Get(ctx, principal(ctx).MerchantID, req.IntegrationId, req.TransactionId)
	if err != nil {
		return nil, err
	}
	return api.GetTransaction200JSONResponse{Ok: true, Data: apiTransactionDetail(t), Meta: s.meta(ctx)}, nil
}
