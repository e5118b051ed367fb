package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/payments"
)

// CreatePayment authorizes (and by default captures) a wallet payment.
func (s *Server) CreatePayment(ctx context.Context, req api.CreatePaymentRequestObject) (api.CreatePaymentResponseObject, error) {
	d := req.Body.Data
	c := d.Credential
	p, err := s.Payments.Create(ctx, payments.Request{
		Caller:   principal(ctx),
		Context:  ledgerContext(ctx, req.Body.Context),
		Amount:   d.AmountMinor,
		Currency: d.Currency,
		Credential: payments.Credential{
			Type: payments.CredentialType(c.Type), Value: valueOf(c.Value), Phone: valueOf(c.Phone),
			ChallengeID: valueOf(c.ChallengeId), Code: valueOf(c.Code),
		},
		CaptureMode:          payments.CaptureMode(valueOf(d.Capture)),
		PartialAuthorization: valueOf(d.PartialAuthorization),
		CheckoutSessionID:    valueOf(d.CheckoutSessionId),
		Reference:            valueOf(d.Reference),
	})
	if err != nil {
		return nil, err
	}
	return api.CreatePayment200JSONResponse{Ok: true, Data: apiPayment(p), Meta: s.meta(ctx)}, nil
}
