package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListTransactions is not built yet.
func (s *Server) ListTransactions(_ context.Context, _ api.ListTransactionsRequestObject) (api.ListTransactionsResponseObject, error) {
	return nil, notImplemented("listTransactions")
}
