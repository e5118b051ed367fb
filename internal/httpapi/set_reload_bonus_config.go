package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/topup"
)

// SetReloadBonusConfig writes a new version of a currency's reload-bonus tiers.
func (s *Server) SetReloadBonusConfig(ctx context.Context, req api.SetReloadBonusConfigRequestObject) (api.SetReloadBonusConfigResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	tiers := make([]topup.TierInput, len(d.Tiers))
	for i, t := range d.Tiers {
		tiers[i] = topup.TierInput{MinTopup: t.MinTopupMinor, BonusFixed: t.BonusFixedMinor, MaxBonus: t.MaxBonusMinor}
		if t.BonusBps != nil {
			bps := int64(*t.BonusBps)
			tiers[i].BonusBps = &bps
		}
	}
	cfg, err := s.Topup.SetReloadBonus(ctx, topup.ReloadBonusInput{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, OperatorID: ledgerContext(ctx, req.Body.Context).OperatorID,
		Currency: d.Currency, Tiers: tiers, BonusExpiresInDays: d.BonusExpiresInDays, Active: d.Active,
	})
	if err != nil {
		return nil, err
	}
	return api.SetReloadBonusConfig200JSONResponse{Ok: true, Data: apiReloadBonusConfig(cfg), Meta: s.meta(ctx)}, nil
}
