package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetPayment is not built yet.
func (s *Server) GetPayment(_ context.Context, _ api.GetPaymentRequestObject) (api.GetPaymentResponseObject, error) {
	return nil, notImplemented("getPayment")
}
