package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/enrollment"
)

// VerifyEnrollment proves the phone: the wallet is verified and every locked
// grant released, in one transaction.
func (s *Server) VerifyEnrollment(ctx context.Context, req api.VerifyEnrollmentRequestObject) (api.VerifyEnrollmentResponseObject, error) {
	d := req.Body.Data
	r, err := s.Enrollment.Verify(ctx, enrollmentCaller(ctx, req.Body.Context), enrollment.Proof{
		VerificationID: valueOf(d.VerificationId), Phone: valueOf(d.Phone), Code: valueOf(d.Code), LinkToken: valueOf(d.LinkToken),
	})
	if err != nil {
		return nil, err
	}
	return api.VerifyEnrollment200JSONResponse{Ok: true, Data: apiWalletRelease(r), Meta: s.meta(ctx)}, nil
}
