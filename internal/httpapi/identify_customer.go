package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// IdentifyCustomer is not built yet.
func (s *Server) IdentifyCustomer(_ context.Context, _ api.IdentifyCustomerRequestObject) (api.IdentifyCustomerResponseObject, error) {
	return nil, notImplemented("identifyCustomer")
}
