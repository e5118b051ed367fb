package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetCheckoutSession reads a checkout session of the caller's merchant.
func (s *Server) GetCheckoutSession(ctx context.Context, req api.GetCheckoutSessionRequestObject) (api.GetCheckoutSessionResponseObject, error) {
	sess, err := s.Checkout.Get(ctx, principal(ctx).MerchantID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetCheckoutSession200JSONResponse{Ok: true, Data: apiCheckoutSession(sess), Meta: s.meta(ctx)}, nil
}
