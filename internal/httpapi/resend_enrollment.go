package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ResendEnrollment is not built yet.
func (s *Server) ResendEnrollment(_ context.Context, _ api.ResendEnrollmentRequestObject) (api.ResendEnrollmentResponseObject, error) {
	return nil, notImplemented("resendEnrollment")
}
