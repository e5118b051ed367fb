package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetCapabilities is not built yet.
func (s *Server) GetCapabilities(_ context.Context, _ api.GetCapabilitiesRequestObject) (api.GetCapabilitiesResponseObject, error) {
	return nil, notImplemented("getCapabilities")
}
