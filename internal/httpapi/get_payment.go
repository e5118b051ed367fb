package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetPayment reads a payment of the caller's integration.
func (s *Server) GetPayment(ctx context.Context, req api.GetPaymentRequestObject) (api.GetPaymentResponseObject, error) {
	p, err := s.Payments.Get(ctx, principal(ctx).MerchantID, principal(ctx).IntegrationID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetPayment200JSONResponse{Ok: true, Data: apiPayment(p), Meta: s.meta(ctx)}, nil
}
