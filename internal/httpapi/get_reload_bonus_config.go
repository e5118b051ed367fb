package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetReloadBonusConfig reads the current reload-bonus tiers of a currency.
func (s *Server) GetReloadBonusConfig(ctx context.Context, req api.GetReloadBonusConfigRequestObject) (api.GetReloadBonusConfigResponseObject, error) {
	cfg, err := s.Topup.ReloadBonus(ctx, principal(ctx).MerchantID, req.Params.Currency)
	if err != nil {
		return nil, err
	}
	return api.GetReloadBonusConfig200JSONResponse{Ok: true, Data: apiReloadBonusConfig(cfg), Meta: s.meta(ctx)}, nil
}
