package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/payments"
)

// CapturePayment captures or closes an authorized payment of the caller's
// integration.
func (s *Server) CapturePayment(ctx context.Context, req api.CapturePaymentRequestObject) (api.CapturePaymentResponseObject, error) {
	p, err := s.Payments.Capture(ctx, payments.CaptureRequest{
		MerchantID:    principal(ctx).MerchantID,
		IntegrationID: principal(ctx).IntegrationID,
		PaymentID:     req.Id,
		Action:        payments.Action(req.Body.Data.Action),
		Amount:        req.Body.Data.AmountMinor,
		Context:       ledgerContext(ctx, req.Body.Context),
	})
	if err != nil {
		return nil, err
	}
	return api.CapturePayment200JSONResponse{Ok: true, Data: apiPayment(p), Meta: s.meta(ctx)}, nil
}
