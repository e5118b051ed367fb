package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateClaim re-drives the release of a verified wallet's locked grants.
func (s *Server) CreateClaim(ctx context.Context, req api.CreateClaimRequestObject) (api.CreateClaimResponseObject, error) {
	r, err := s.Enrollment.Claim(ctx, enrollmentCaller(ctx, req.Body.Context), req.Body.Data.WalletId)
	if err != nil {
		return nil, err
	}
	return api.CreateClaim200JSONResponse{Ok: true, Data: apiWalletRelease(r), Meta: s.meta(ctx)}, nil
}
