package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/topup"
)

// CreateSkuTopup records a SKU sold at the till.
func (s *Server) CreateSkuTopup(ctx context.Context, req api.CreateSkuTopupRequestObject) (api.CreateSkuTopupResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	res, err := s.Topup.SellSku(ctx, topup.SkuSale{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, SkuID: req.SkuId, WalletID: d.WalletId,
		Quantity: d.Quantity, POSReference: valueOf(d.PosReference), Context: ledgerContext(ctx, req.Body.Context),
	})
	if err != nil {
		return nil, err
	}
	return api.CreateSkuTopup200JSONResponse{Ok: true, Data: apiTopupResult(res), Meta: s.meta(ctx)}, nil
}
