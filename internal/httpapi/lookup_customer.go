package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// LookupCustomer is not built yet.
func (s *Server) LookupCustomer(_ context.Context, _ api.LookupCustomerRequestObject) (api.LookupCustomerResponseObject, error) {
	return nil, notImplemented("lookupCustomer")
}
