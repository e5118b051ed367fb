// Package auth owns tenancy and authentication: merchants and integrations,
// the API keys integrations hold, the short-lived terminal JWTs those keys
// mint, the signing keys behind them, and the rule that decides whether a
// credential may call an operation. Inputs and outputs are its own types, so
// the HTTP layer, the CLI and tests share the same rules.
package auth

import (
	"context"
	"errors"
	"fmt"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"slices"
	"time"
)

// Kind is the kind of credential a request authenticated with.
type Kind string

// The two credentials of the contract.
const (
	KindAPIKey      Kind = "api_key"
	KindTerminalJWT Kind = "terminal_jwt"
)

// Role is what an API key may do beyond its scopes.
type Role string

// The roles of the contract: only an operator may claw back grants or create
// another operator key.
const (
	RoleIntegration Role = "integration"
	RoleOperator    Role = "operator"
)

// Roles lists every role, for checks against the document.
func Roles() []Role { return []Role{RoleIntegration, RoleOperator} }

func (r Role) valid() bool { return slices.Contains(Roles(), r) }

// KeyStatus is the life-cycle state of an API key.
type KeyStatus string

// An active key authenticates; a revoked key is kept for audit and refused.
const (
	KeyActive  KeyStatus = "active"
	KeyRevoked KeyStatus = "revoked"
)

// The scopes of the consent rule (ConsentRule in docs/authentication.md).
// ScopeQRMint is the customer's consent: whoever mints a wallet's QR stands
// for the customer, so it must never be the credential that pays with it
// (ScopePaymentsWrite), or a till holding both could spend a wallet with
// nothing but the customer's phone number.
const (
	ScopeQRMint        = "qr:mint"
	ScopePaymentsWrite = "payments:write"
	// ScopePaymentsRefund gives money back to a wallet: a till or back-office
	// power, never the wallet app's.
	ScopePaymentsRefund = "payments:refund"
)

// exclusiveScopes are the pairs no API key may hold together.
var exclusiveScopes = [][2]string{{ScopeQRMint, ScopePaymentsWrite}, {ScopeQRMint, ScopePaymentsRefund}}

// TokenTTL is the exact lifetime of a terminal JWT.
const TokenTTL = 600 * time.Second

// Principal is who is calling: the tenant, the credential and what it holds.
type Principal struct {
	MerchantID    string
	IntegrationID string
	// KeyID is the API key, or the key that minted the terminal JWT.
	KeyID  string
	Role   Role
	Scopes []string
	Kind   Kind
	// TerminalID is set for terminal JWTs.
	TerminalID string
	// TokenID and TokenExpiresAt describe the terminal JWT, when Kind is
	// KindTerminalJWT.
	TokenID        string
	TokenExpiresAt time.Time
	// DisabledOperations are the operationIds turned off for the
	// integration.
	DisabledOperations []string
}

// HasScope says whether the credential holds scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of an authenticated request.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// The errors of the package; callers test them with errors.Is. Each names
// one error code of the contract.
var (
	// ErrUnauthenticated: no credential, an unknown key, or a token that is
	// malformed, badly signed, or meant for another issuer or audience.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrTokenExpired: a terminal JWT past its 600 seconds.
	ErrTokenExpired = errors.New("terminal token expired")
	// ErrTokenExceedsKey: a terminal JWT claims scopes its API key does not
	// hold. IssueToken never mints one, so it was made with a stolen signing
	// key: the token is not trusted at all (unauthenticated, reason
	// malformed), rather than forbidden for one operation, which would tell
	// its maker which claims we read. It is also an ErrUnauthenticated.
	ErrTokenExceedsKey = fmt.Errorf("%w: token claims exceed its key", ErrUnauthenticated)
	// ErrKeyRevoked: the API key, or the key behind a JWT, is revoked or
	// deleted.
	ErrKeyRevoked = errors.New("API key revoked")
	// ErrForbidden: the credential lacks the kind, scope or role needed.
	ErrForbidden = errors.New("forbidden")
	// ErrScopeEscalation: a key tried to grant (or mint a token with) a
	// scope or role it does not hold. It is also an ErrForbidden.
	ErrScopeEscalation = fmt.Errorf("%w: scope escalation", ErrForbidden)
	// ErrOperationNotEnabled: the operation is turned off for the
	// integration.
	ErrOperationNotEnabled = errors.New("operation not enabled for this integration")
	// ErrNotFound: no such key (or integration) for the caller; another
	// tenant's is reported the same way.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: an input is not acceptable; a *fielderr.Error names it.
	ErrInvalid = errors.New("invalid input")
)

// Error is the error the package returns when no single input is at
// fault: errors.Is matches its sentinel (ErrForbidden, ...), its text is
// written for the client, and Details say what is missing. An input that is
// not acceptable is a *fielderr.Error (invalid), which names it.
type Error struct {
	sentinel error
	msg      string
	details  map[string]any
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.sentinel }

// Details are code-specific facts (missing_scopes), nil when none.
func (e *Error) Details() map[string]any { return e.details }

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldKeyName is the name of a NewKey.
	FieldKeyName fielderr.Field = "auth.NewKey.Name"
	// FieldKeyScopes is the scopes of a NewKey, as a whole.
	FieldKeyScopes fielderr.Field = "auth.NewKey.Scopes"
	// FieldKeyScope is one scope of a NewKey.
	FieldKeyScope fielderr.Field = "auth.NewKey.Scopes[]"
	// FieldKeyRole is the role of a NewKey.
	FieldKeyRole fielderr.Field = "auth.NewKey.Role"
	// FieldKeyExpiresAt is the expiry of a NewKey.
	FieldKeyExpiresAt fielderr.Field = "auth.NewKey.ExpiresAt"
	// FieldRegeneratedKey is the key given to RegenerateKey, when its
	// stored scopes hold an exclusive pair.
	FieldRegeneratedKey fielderr.Field = "auth.RegenerateKey.keyID"
	// FieldListLimit is the limit given to ListKeys.
	FieldListLimit fielderr.Field = "auth.ListKeys.limit"
	// FieldListCursor is the cursor given to ListKeys.
	FieldListCursor fielderr.Field = "auth.ListKeys.cursor"
	// FieldTerminalID is the terminal id given to IssueToken.
	FieldTerminalID fielderr.Field = "auth.IssueToken.terminalID"
	// FieldTokenScope is one scope given to IssueToken.
	FieldTokenScope fielderr.Field = "auth.IssueToken.scopes[]"
)

// deny returns an error that is sentinel (errors.Is) and whose text is the
// message for the client.
func deny(sentinel error, format string, args ...any) *Error {
	return &Error{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// invalid says that one input is not acceptable. The client's message
// opens with the input's name as the request writes it (NamedFirst).
func invalid(field fielderr.Field, format string, args ...any) *fielderr.Error {
	e := fielderr.New(ErrInvalid, field, format, args...)
	e.NamedFirst = true
	return e
}
