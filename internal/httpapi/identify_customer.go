package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// IdentifyCustomer resolves a credential to a customer context.
func (s *Server) IdentifyCustomer(ctx context.Context, req api.IdentifyCustomerRequestObject) (api.IdentifyCustomerResponseObject, error) {
	cc, err := s.Identity.Identify(ctx, callerOf(ctx, req.Body.Context), identityCredential(req.Body.Data.Credential), "")
	if err != nil {
		return nil, err
	}
	return api.IdentifyCustomer200JSONResponse{Ok: true, Data: apiCustomerContext(cc), Meta: s.meta(ctx)}, nil
}
