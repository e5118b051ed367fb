package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateClaim is not built yet.
func (s *Server) CreateClaim(_ context.Context, _ api.CreateClaimRequestObject) (api.CreateClaimResponseObject, error) {
	return nil, notImplemented("createClaim")
}
