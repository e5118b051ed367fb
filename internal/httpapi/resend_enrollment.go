package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/enrollment"
)

// ResendEnrollment sends a new code; the old one dies.
func (s *Server) ResendEnrollment(ctx context.Context, req api.ResendEnrollmentRequestObject) (api.ResendEnrollmentResponseObject, error) {
	d := req.Body.Data
	st, err := s.Enrollment.Resend(ctx, enrollmentCaller(ctx, req.Body.Context), enrollment.Target{
		VerificationID: valueOf(d.VerificationId), Phone: valueOf(d.Phone),
	})
	if err != nil {
		return nil, err
	}
	return api.ResendEnrollment200JSONResponse{Ok: true, Data: apiVerificationState(st), Meta: s.meta(ctx)}, nil
}
