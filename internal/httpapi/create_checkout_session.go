package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateCheckoutSession is not built yet.
func (s *Server) CreateCheckoutSession(_ context.Context, _ api.CreateCheckoutSessionRequestObject) (api.CreateCheckoutSessionResponseObject, error) {
	return nil, notImplemented("createCheckoutSession")
}
