package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// Credentials are what a request presented: the X-Api-Key header, or the
// token of an Authorization: Bearer header.
type Credentials struct {
	APIKey      string
	BearerToken string
}

// touchInterval bounds how often a key's last_used_at is written: at most
// once per interval per key, however many requests it serves.
const touchInterval = time.Minute

// bothCredentials refuses a request carrying an API key and a bearer token:
// one credential per request, on every operation (token validation included),
// so no request is ever judged by a credential other than the one its sender
// meant.
func bothCredentials() *Error {
	return deny(ErrUnauthenticated, "send one credential: X-Api-Key or Authorization: Bearer, not both")
}

// Authenticate finds who presented the credentials. It does not decide
// whether they may call anything: see Authorize.
func (s *Service) Authenticate(ctx context.Context, cred Credentials) (Principal, error) {
	switch {
	case cred.APIKey != "" && cred.BearerToken != "":
		return Principal{}, bothCredentials()
	case cred.APIKey != "":
		return s.authenticateKey(ctx, cred.APIKey)
	case cred.BearerToken != "":
		return s.authenticateToken(ctx, cred.BearerToken)
	}
	return Principal{}, deny(ErrUnauthenticated, "send an API key in X-Api-Key or a terminal token in Authorization: Bearer")
}

func (s *Service) authenticateKey(ctx context.Context, raw string) (Principal, error) {
	if other := otherEnvironmentTag(s.cfg.Environment); strings.HasPrefix(raw, other) {
		return Principal{}, deny(ErrUnauthenticated, "this API key belongs to the %s environment", otherEnvironment(s.cfg.Environment))
	}
	hash := hashSecret(raw)
	row, err := dbx.Q(ctx, s.pool).ApiKeyGetForAuthBySecretHash(ctx, hash)
	if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
		return Principal{}, deny(ErrUnauthenticated, "unknown API key")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("looking up API key: %w", err)
	}
	key := row.ApiKey
	if !sameHash(key.SecretHash, hash) {
		return Principal{}, deny(ErrUnauthenticated, "unknown API key")
	}
	if KeyStatus(key.Status) == KeyRevoked {
		return Principal{}, deny(ErrKeyRevoked, "this API key was revoked")
	}
	if key.ExpiresAt != nil && !key.ExpiresAt.After(s.now()) {
		return Principal{}, deny(ErrKeyRevoked, "this API key expired at %s", key.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s.touch(ctx, key)
	return Principal{
		MerchantID:         key.MerchantID,
		IntegrationID:      key.IntegrationID,
		KeyID:              key.ID,
		Role:               Role(key.Role),
		Scopes:             key.Scopes,
		Kind:               KindAPIKey,
		DisabledOperations: row.DisabledOperations,
	}, nil
}

func (s *Service) authenticateToken(ctx context.Context, raw string) (Principal, error) {
	claims, reason, err := s.verifyToken(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	switch reason {
	case ReasonMalformed:
		return Principal{}, deny(ErrUnauthenticated, "the bearer token is not a valid terminal token")
	case ReasonBadSignature:
		return Principal{}, deny(ErrUnauthenticated, "the bearer token's signature does not verify")
	case ReasonExpired:
		return Principal{}, deny(ErrTokenExpired, "the terminal token expired at %s; mint a new one with POST /auth/token", claims.ExpiresAt.Format(time.RFC3339))
	}
	row, err := s.tokenKey(ctx, claims)
	if err != nil {
		return Principal{}, err
	}
	s.touch(ctx, row.ApiKey)
	return Principal{
		MerchantID:    claims.MerchantID,
		IntegrationID: claims.IntegrationID,
		KeyID:         claims.KeyID,
		// A terminal acts with role integration whatever its key's role.
		Role:               RoleIntegration,
		Scopes:             terminalScopes(claims.Scopes),
		Kind:               KindTerminalJWT,
		TerminalID:         claims.TerminalID,
		TokenID:            claims.TokenID,
		TokenExpiresAt:     claims.ExpiresAt,
		DisabledOperations: row.DisabledOperations,
	}, nil
}

// touch records a key's use when the last record is older than
// touchInterval, so a busy key costs one write a minute, not one a request.
// The write goes out in the background on a connection of its own: it is
// not part of the request's transaction (which would hold the key's row
// locked while the request runs), and the request never waits for a second
// connection (under load, every request holding one and waiting for
// another would drain the pool). One write per key is in flight at a time.
// A failure is logged, never returned: it must not fail a request.
func (s *Service) touch(ctx context.Context, key db.ApiKey) {
	now := s.now()
	if key.LastUsedAt != nil && now.Sub(*key.LastUsedAt) < touchInterval {
		return
	}
	if _, busy := s.touching.LoadOrStore(key.ID, true); busy {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	go func() {
		defer cancel()
		defer s.touching.Delete(key.ID)
		err := db.New(s.pool).ApiKeyTouch(ctx, db.ApiKeyTouchParams{
			ID: key.ID, IntegrationID: key.IntegrationID, MerchantID: key.MerchantID, IntervalSeconds: touchInterval.Seconds(), Now: now,
		})
		if err != nil {
			s.logger.WarnContext(ctx, "recording API key use", "key_id", key.ID, "error", err)
		}
	}()
}

func otherEnvironment(env config.Environment) config.Environment {
	if env == config.Live {
		return config.Sandbox
	}
	return config.Live
}

func otherEnvironmentTag(env config.Environment) string { return keyTag(otherEnvironment(env)) }

// BearerToken reads the token of an Authorization header value
// ("Bearer <token>", the scheme in any case); "" when the header is empty.
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", deny(ErrUnauthenticated, "the Authorization header must be 'Bearer <terminal token>'")
	}
	return token, nil
}

// AuthenticateInspection authenticates a request whose subject is its own
// bearer token (token validation): the token must be there and an API key
// must not (alone it is forbidden, next to the token it breaks the
// one-credential rule), but a token that is expired, revoked or forged is no error, as
// reporting on it is the point. ok says whether the token authenticated.
func (s *Service) AuthenticateInspection(ctx context.Context, cred Credentials) (p Principal, ok bool, err error) {
	switch {
	case cred.APIKey != "" && cred.BearerToken != "":
		return Principal{}, false, bothCredentials()
	case cred.APIKey != "":
		return Principal{}, false, deny(ErrForbidden, "send the terminal token to check in Authorization: Bearer, not an API key")
	case cred.BearerToken == "":
		return Principal{}, false, deny(ErrUnauthenticated, "a bearer token is required")
	}
	p, err = s.Authenticate(ctx, cred)
	switch {
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrTokenExpired), errors.Is(err, ErrKeyRevoked):
		return Principal{}, false, nil
	case err != nil:
		return Principal{}, false, err
	}
	return p, true, nil
}
