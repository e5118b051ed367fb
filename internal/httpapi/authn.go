package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// authenticate runs before validation and idempotency for every operation
// that states security requirements. Who may call what comes from the
// document alone: the schemes an operation lists are the credential kinds it
// accepts, with the scopes each must hold; x-required-role is the role; an
// operation that documents operation_not_enabled can be turned off per
// integration. internal/auth decides; this function only reads headers.
func (s *Server) authenticate(c echo.Context, op *spec.Operation) (context.Context, error) {
	ctx := c.Request().Context()
	cred, err := credentialsOf(c.Request())
	if err != nil {
		return nil, err
	}
	access, err := accessOf(op, s.Config.Env)
	if err != nil {
		return nil, err
	}
	if inspectsBearerToken(op) {
		return s.authenticateInspection(ctx, cred, access)
	}
	p, err := s.Auth.Authenticate(ctx, cred)
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(p, access); err != nil {
		return nil, err
	}
	return auth.WithPrincipal(ctx, p), nil
}

// inspectsBearerToken says whether the operation examines the bearer token
// instead of being authorized by it: it takes terminal JWTs but, by its
// x-error-codes, never answers token_expired or key_revoked (GET
// /auth/token/validate reports those as 200 valid: false).
func inspectsBearerToken(op *spec.Operation) bool {
	_, jwt := op.Accepts(spec.SchemeTerminalJWT)
	return jwt && !op.MayReturn(string(apierror.TokenExpired)) && !op.MayReturn(string(apierror.KeyRevoked))
}

// authenticateInspection lets any bearer token through to the handler, which
// reports on it; a token that does authenticate is still held to the
// operation's access rules (an integration may have it turned off).
func (s *Server) authenticateInspection(ctx context.Context, cred auth.Credentials, access auth.Access) (context.Context, error) {
	p, ok, err := s.Auth.AuthenticateInspection(ctx, cred)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, bearerTokenKey{}, cred.BearerToken)
	if !ok {
		return ctx, nil
	}
	if err := auth.Authorize(p, access); err != nil {
		return nil, err
	}
	return auth.WithPrincipal(ctx, p), nil
}

type bearerTokenKey struct{}

// bearerToken is the token an inspecting operation examines.
func bearerToken(ctx context.Context) string {
	s, _ := ctx.Value(bearerTokenKey{}).(string)
	return s
}

// credentialsOf reads X-Api-Key and Authorization: Bearer.
func credentialsOf(r *http.Request) (auth.Credentials, error) {
	token, err := auth.BearerToken(r.Header.Get(echo.HeaderAuthorization))
	return auth.Credentials{APIKey: strings.TrimSpace(r.Header.Get("X-Api-Key")), BearerToken: token}, err
}

// accessOf reads an operation's access rules from the document. Operations
// tagged sandbox are served in the sandbox environment only.
func accessOf(op *spec.Operation, env config.Environment) (auth.Access, error) {
	a := auth.Access{
		OperationID:  op.ID,
		Accepts:      make(map[auth.Kind][]string, len(op.Security)),
		RequiredRole: auth.Role(op.RequiredRole),
		Switchable:   op.MayReturn(string(apierror.OperationNotEnabled)),
		Unavailable:  slices.Contains(op.Op.Tags, sandboxTag) && env != config.Sandbox,
	}
	for _, req := range op.Security {
		kind, ok := kindOfScheme[req.Scheme]
		if !ok {
			return a, fmt.Errorf("%s: unknown security scheme %q", op.ID, req.Scheme)
		}
		a.Accepts[kind] = req.Scopes
	}
	return a, nil
}

// sandboxTag marks the operations served in the sandbox environment only.
const sandboxTag = "sandbox"

var kindOfScheme = map[string]auth.Kind{
	spec.SchemeAPIKey:      auth.KindAPIKey,
	spec.SchemeTerminalJWT: auth.KindTerminalJWT,
}

// idempotencyScope is the credential an Idempotency-Key belongs to: the
// API key, or the terminal of a terminal token (with the key that minted
// it). Another credential's key never replays this one's response.
func (s *Server) idempotencyScope(ctx context.Context) (merchantID, scope string) {
	p, _ := auth.PrincipalFrom(ctx)
	return p.MerchantID, IdempotencyScope(p)
}

// IdempotencyScope names the credential of p as idempotency keys are
// scoped (exported for tests that hold a key's lock).
func IdempotencyScope(p auth.Principal) string {
	scope := p.IntegrationID + "/" + p.KeyID
	if p.Kind == auth.KindTerminalJWT {
		scope += "/terminal:" + p.TerminalID
	}
	return scope
}

// principal is the caller of an authenticated operation (the zero value,
// which every domain refuses, if there is none).
func principal(ctx context.Context) auth.Principal {
	p, _ := auth.PrincipalFrom(ctx)
	return p
}

// requireOwnIntegration guards /{integrationId}/… paths: another
// integration's id answers not_found exactly as a missing one does.
func (s *Server) requireOwnIntegration(ctx context.Context, integrationID string) error {
	return auth.RequireIntegration(principal(ctx), integrationID)
}
