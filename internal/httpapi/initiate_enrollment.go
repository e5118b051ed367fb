package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/enrollment"
)

// InitiateEnrollment creates the customer and a pending_proof wallet (or
// returns the phone's pending one) and queues the verification SMS.
func (s *Server) InitiateEnrollment(ctx context.Context, req api.InitiateEnrollmentRequestObject) (api.InitiateEnrollmentResponseObject, error) {
	d := req.Body.Data
	e := enrollment.Enrollee{
		Phone: d.Phone, DisplayName: valueOf(d.DisplayName), Currency: valueOf(d.Currency),
		ProviderCustomerID: valueOf(d.ProviderCustomerId), CardFingerprint: valueOf(d.CardFingerprint),
	}
	if g := d.WelcomeGrant; g != nil {
		e.WelcomeGrant = &enrollment.WelcomeGrant{Amount: g.AmountMinor, ExpiresInDays: g.ExpiresInDays}
	}
	in, err := s.Enrollment.Initiate(ctx, enrollmentCaller(ctx, req.Body.Context), e)
	if err != nil {
		return nil, err
	}
	return api.InitiateEnrollment200JSONResponse{Ok: true, Meta: s.meta(ctx), Data: api.EnrollmentInitiation{
		CustomerId:   in.CustomerID,
		Wallet:       apiWallet(in.Wallet),
		Verification: apiVerificationState(in.Verification),
		Grants:       apiGrants(in.Grants),
	}}, nil
}
