package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetTransaction is not built yet.
func (s *Server) GetTransaction(_ context.Context, _ api.GetTransactionRequestObject) (api.GetTransactionResponseObject, error) {
	return nil, notImplemented("getTransaction")
}
