package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// IdentifyCheckoutSession attaches the identified customer to an open
// checkout session.
func (s *Server) IdentifyCheckoutSession(ctx context.Context, req api.IdentifyCheckoutSessionRequestObject) (api.IdentifyCheckoutSessionResponseObject, error) {
	sess, err := s.Checkout.Identify(ctx, callerOf(ctx, req.Body.Context), req.Id, identityCredential(req.Body.Data.Credential))
	if err != nil {
		return nil, err
	}
	return api.IdentifyCheckoutSession200JSONResponse{Ok: true, Data: apiCheckoutSession(sess), Meta: s.meta(ctx)}, nil
}
