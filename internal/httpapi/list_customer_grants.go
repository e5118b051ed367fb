package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListCustomerGrants is not built yet.
func (s *Server) ListCustomerGrants(_ context.Context, _ api.ListCustomerGrantsRequestObject) (api.ListCustomerGrantsResponseObject, error) {
	return nil, notImplemented("listCustomerGrants")
}
