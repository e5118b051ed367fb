package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ConfirmTopup is not built yet.
func (s *Server) ConfirmTopup(_ context.Context, _ api.ConfirmTopupRequestObject) (api.ConfirmTopupResponseObject, error) {
	return nil, notImplemented("confirmTopup")
}
