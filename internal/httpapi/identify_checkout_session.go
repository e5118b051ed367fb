package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// IdentifyCheckoutSession is not built yet.
func (s *Server) IdentifyCheckoutSession(_ context.Context, _ api.IdentifyCheckoutSessionRequestObject) (api.IdentifyCheckoutSessionResponseObject, error) {
	return nil, notImplemented("identifyCheckoutSession")
}
