package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CapturePayment is not built yet.
func (s *Server) CapturePayment(_ context.Context, _ api.CapturePaymentRequestObject) (api.CapturePaymentResponseObject, error) {
	return nil, notImplemented("capturePayment")
}
