package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/topup"
)

// ConfirmTopup credits a settled top-up and accrues the reload bonus.
func (s *Server) ConfirmTopup(ctx context.Context, req api.ConfirmTopupRequestObject) (api.ConfirmTopupResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	res, err := s.Topup.Confirm(ctx, topup.Confirmation{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, WalletID: d.WalletId,
		Amount: d.AmountMinor, Currency: d.Currency, Provider: d.Provider, SettlementReference: d.SettlementReference,
		Context: ledgerContext(ctx, req.Body.Context),
	})
	if err != nil {
		return nil, err
	}
	return api.ConfirmTopup200JSONResponse{Ok: true, Data: apiTopupResult(res), Meta: s.meta(ctx)}, nil
}
