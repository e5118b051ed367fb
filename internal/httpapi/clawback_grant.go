package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ClawbackGrant is not built yet.
func (s *Server) ClawbackGrant(_ context.Context, _ api.ClawbackGrantRequestObject) (api.ClawbackGrantResponseObject, error) {
	return nil, notImplemented("clawbackGrant")
}
