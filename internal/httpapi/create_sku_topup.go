package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateSkuTopup is not built yet.
func (s *Server) CreateSkuTopup(_ context.Context, _ api.CreateSkuTopupRequestObject) (api.CreateSkuTopupResponseObject, error) {
	return nil, notImplemented("createSkuTopup")
}
