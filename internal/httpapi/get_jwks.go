package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetJwks is not built yet.
func (s *Server) GetJwks(_ context.Context, _ api.GetJwksRequestObject) (api.GetJwksResponseObject, error) {
	return nil, notImplemented("getJwks")
}
