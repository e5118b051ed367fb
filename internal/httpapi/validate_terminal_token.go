package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ValidateTerminalToken reports on the caller's own bearer token; an
// invalid token is an answer here, not an error.
func (s *Server) ValidateTerminalToken(ctx context.Context, _ api.ValidateTerminalTokenRequestObject) (api.ValidateTerminalTokenResponseObject, error) {
	st, err := s.Auth.ValidateToken(ctx, bearerToken(ctx))
	if err != nil {
		return nil, err
	}
	data := api.TokenValidation{Valid: st.Valid, Scopes: []api.Scope{}}
	if st.Reason != "" {
		reason := api.TokenInvalidReason(st.Reason)
		data.Reason = &reason
	}
	if c := st.Claims; c != nil {
		data.ExpiresAt, data.Scopes = &c.ExpiresAt, apiScopes(c.Scopes)
		data.TerminalId, data.KeyId = &c.TerminalID, &c.KeyID
	}
	if st.Valid {
		data.RemainingTtlSeconds = int(st.RemainingTTL.Seconds())
	}
	return api.ValidateTerminalToken200JSONResponse{Ok: true, Data: data, Meta: s.meta(ctx)}, nil
}
