package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
)

// CreateTerminalToken mints a 600-second terminal JWT with the caller's key.
func (s *Server) CreateTerminalToken(ctx context.Context, req api.CreateTerminalTokenRequestObject) (api.CreateTerminalTokenResponseObject, error) {
	var scopes []string
	if req.Body.Data.Scopes != nil {
		scopes = domainScopes(*req.Body.Data.Scopes)
	}
	tok, err := s.Auth.IssueToken(ctx, principal(ctx), req.Body.Data.TerminalId, scopes)
	if err != nil {
		return nil, err
	}
	return api.CreateTerminalToken200JSONResponse{
		Ok: true,
		Data: api.TerminalToken{
			Token:          &tok.Token,
			TokenType:      api.TerminalTokenTokenTypeBearer,
			ExpiresIn:      int(auth.TokenTTL.Seconds()),
			ExpiresAt:      tok.ExpiresAt,
			Scopes:         apiScopes(tok.Scopes),
			TerminalId:     tok.TerminalID,
			KeyId:          tok.KeyID,
			SecretRedacted: false,
		},
		Meta: s.meta(ctx),
	}, nil
}
