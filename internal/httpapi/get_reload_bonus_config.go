package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetReloadBonusConfig is not built yet.
func (s *Server) GetReloadBonusConfig(_ context.Context, _ api.GetReloadBonusConfigRequestObject) (api.GetReloadBonusConfigResponseObject, error) {
	return nil, notImplemented("getReloadBonusConfig")
}
