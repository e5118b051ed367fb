package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// InitiateEnrollment is not built yet.
func (s *Server) InitiateEnrollment(_ context.Context, _ api.InitiateEnrollmentRequestObject) (api.InitiateEnrollmentResponseObject, error) {
	return nil, notImplemented("initiateEnrollment")
}
