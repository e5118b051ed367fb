package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// SetReloadBonusConfig is not built yet.
func (s *Server) SetReloadBonusConfig(_ context.Context, _ api.SetReloadBonusConfigRequestObject) (api.SetReloadBonusConfigResponseObject, error) {
	return nil, notImplemented("setReloadBonusConfig")
}
