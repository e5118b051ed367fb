package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// VerifyEnrollment is not built yet.
func (s *Server) VerifyEnrollment(_ context.Context, _ api.VerifyEnrollmentRequestObject) (api.VerifyEnrollmentResponseObject, error) {
	return nil, notImplemented("verifyEnrollment")
}
