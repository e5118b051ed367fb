package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreatePayment is not built yet.
func (s *Server) CreatePayment(_ context.Context, _ api.CreatePaymentRequestObject) (api.CreatePaymentResponseObject, error) {
	return nil, notImplemented("createPayment")
}
