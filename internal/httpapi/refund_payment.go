package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/payments"
)

// RefundPayment refunds part or all of a captured payment of the caller's
// integration.
func (s *Server) RefundPayment(ctx context.Context, req api.RefundPaymentRequestObject) (api.RefundPaymentResponseObject, error) {
	d := req.Body.Data
	r := payments.RefundRequest{
		MerchantID:    principal(ctx).MerchantID,
		IntegrationID: principal(ctx).IntegrationID,
		PaymentID:     req.Id,
		Amount:        d.AmountMinor,
		Reason:        d.Reason,
		Context:       ledgerContext(ctx, req.Body.Context),
	}
	if d.Reference != nil {
		r.Reference = *d.Reference
	}
	rf, err := s.Payments.Refund(ctx, r)
	if err != nil {
		return nil, err
	}
	return api.RefundPayment201JSONResponse{Ok: true, Data: apiRefund(rf), Meta: s.meta(ctx)}, nil
}
