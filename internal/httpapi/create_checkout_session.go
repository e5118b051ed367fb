package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/checkout"
)

// CreateCheckoutSession opens a checkout session for 30 minutes.
func (s *Server) CreateCheckoutSession(ctx context.Context, req api.CreateCheckoutSessionRequestObject) (api.CreateCheckoutSessionResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	sess, err := s.Checkout.Create(ctx, checkout.SessionRequest{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID,
		Currency: d.Currency, AmountMinor: d.AmountMinor, Reference: valueOf(d.Reference),
	})
	if err != nil {
		return nil, err
	}
	return api.CreateCheckoutSession200JSONResponse{Ok: true, Data: apiCheckoutSession(sess), Meta: s.meta(ctx)}, nil
}
