package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// UpsertSku is not built yet.
func (s *Server) UpsertSku(_ context.Context, _ api.UpsertSkuRequestObject) (api.UpsertSkuResponseObject, error) {
	return nil, notImplemented("upsertSku")
}
