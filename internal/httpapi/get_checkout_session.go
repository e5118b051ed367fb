package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetCheckoutSession is not built yet.
func (s *Server) GetCheckoutSession(_ context.Context, _ api.GetCheckoutSessionRequestObject) (api.GetCheckoutSessionResponseObject, error) {
	return nil, notImplemented("getCheckoutSession")
}
