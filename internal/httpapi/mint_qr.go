package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// MintQr is not built yet.
func (s *Server) MintQr(_ context.Context, _ api.MintQrRequestObject) (api.MintQrResponseObject, error) {
	return nil, notImplemented("mintQr")
}
