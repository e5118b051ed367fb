package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListSkus is not built yet.
func (s *Server) ListSkus(_ context.Context, _ api.ListSkusRequestObject) (api.ListSkusResponseObject, error) {
	return nil, notImplemented("listSkus")
}
