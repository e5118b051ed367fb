package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListApiKeys is not built yet.
func (s *Server) ListApiKeys(_ context.Context, _ api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	return nil, notImplemented("listApiKeys")
}
