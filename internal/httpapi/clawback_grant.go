package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/grants"
)

// ClawbackGrant removes the remaining promo of a grant (operator keys only;
// the document's security and x-required-role are enforced before).
func (s *Server) ClawbackGrant(ctx context.Context, req api.ClawbackGrantRequestObject) (api.ClawbackGrantResponseObject, error) {
	p, d := principal(ctx), req.Body.Data
	out, err := s.Grants.Clawback(ctx, grants.ClawbackRequest{
		MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, GrantID: req.Id,
		Reason: grants.ClawbackReason(d.Reason), Note: valueOf(d.Note), Context: ledgerContext(ctx, req.Body.Context),
	})
	if err != nil {
		return nil, err
	}
	txn := apiTransaction(out.Transaction)
	return api.ClawbackGrant200JSONResponse{Ok: true, Data: api.ClawbackResult{Grant: apiGrant(out.Grant), Transaction: &txn}, Meta: s.meta(ctx)}, nil
}
