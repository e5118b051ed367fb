package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/topup"
)

// UpsertSku creates or replaces a SKU of the catalog.
func (s *Server) UpsertSku(ctx context.Context, req api.UpsertSkuRequestObject) (api.UpsertSkuResponseObject, error) {
	d := req.Body.Data
	sku, err := s.Topup.UpsertSku(ctx, topup.SkuInput{MerchantID: principal(ctx).MerchantID, Sku: topup.Sku{
		SkuID: d.SkuId, Currency: d.Currency, FaceValue: d.FaceValueMinor, Bonus: d.BonusMinor,
		BonusExpiresInDays: d.BonusExpiresInDays, Active: d.Active,
	}})
	if err != nil {
		return nil, err
	}
	return api.UpsertSku200JSONResponse{Ok: true, Data: apiSku(sku), Meta: s.meta(ctx)}, nil
}
