package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/oklog/ulid/v2"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// Token is a terminal JWT just minted.
type Token struct {
	Token      string
	KeyID      string
	TerminalID string
	Scopes     []string
	TokenID    string
	SigningKID string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// TokenReason says why a terminal JWT is not valid.
type TokenReason string

// The reasons of GET /auth/token/validate.
const (
	ReasonExpired      TokenReason = "expired"
	ReasonRevoked      TokenReason = "revoked"
	ReasonMalformed    TokenReason = "malformed"
	ReasonBadSignature TokenReason = "bad_signature"
)

// Claims are what a verified terminal JWT says.
type Claims struct {
	// SigningKID is the signing key that signed the token (its kid header).
	SigningKID    string
	KeyID         string
	MerchantID    string
	IntegrationID string
	TerminalID    string
	TokenID       string
	Scopes        []string
	IssuedAt      time.Time
	ExpiresAt     time.Time
}

// TokenStatus is the verdict on a terminal JWT.
type TokenStatus struct {
	Valid  bool
	Reason TokenReason // empty when valid
	// Claims is nil when the token is malformed or not signed by us:
	// nothing in it can be trusted then.
	Claims *Claims
	// RemainingTTL is the time left before the token expires, zero once it
	// has expired.
	RemainingTTL time.Duration
}

const maxTerminalIDLength = 128

// claimSet is the JSON payload of a terminal JWT.
type claimSet struct {
	Iss         string   `json:"iss"`
	Aud         audience `json:"aud"`
	Sub         string   `json:"sub"`
	Iat         int64    `json:"iat"`
	Exp         int64    `json:"exp"`
	Jti         string   `json:"jti"`
	Merchant    string   `json:"merchant"`
	Integration string   `json:"integration"`
	Terminal    string   `json:"terminal"`
	Scope       string   `json:"scope"`
}

// audience reads "aud" as RFC 7519 allows: a string or an array of them.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// IssueToken mints a terminal JWT for the caller's key, valid for exactly
// TokenTTL. scopes nil means every scope of the key but qr:mint; otherwise
// they must be a subset of the key's, and never qr:mint: a terminal is a
// till, and a till never mints a customer's QR (see terminalScopes).
func (s *Service) IssueToken(ctx context.Context, caller Principal, terminalID string, scopes []string) (Token, error) {
	if caller.Kind != KindAPIKey {
		return Token{}, deny(ErrForbidden, "terminal tokens are minted with an API key, not with another token")
	}
	if !validTerminalID(terminalID) {
		return Token{}, invalid(FieldTerminalID, "must be 1 to %d printable characters", maxTerminalIDLength)
	}
	granted := terminalScopes(caller.Scopes)
	if scopes != nil {
		if i := slices.Index(scopes, ScopeQRMint); i >= 0 {
			return Token{}, invalid(FieldTokenScope, "%s is never carried by a terminal token: only the wallet app's API key mints QR codes", ScopeQRMint).At(i)
		}
		var err error
		if granted, err = s.canonicalScopes(FieldTokenScope, scopes); err != nil {
			return Token{}, err
		}
		if missing := missingScopes(caller.Scopes, granted); len(missing) > 0 {
			return Token{}, deny(ErrScopeEscalation, "a token can carry only scopes its key holds; this key lacks %s", strings.Join(missing, " "))
		}
	}
	key, err := s.currentSigningKey(ctx)
	if err != nil {
		return Token{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	claims := claimSet{
		Iss:         s.cfg.Issuer,
		Aud:         audience{s.cfg.Audience},
		Sub:         caller.KeyID,
		Iat:         now.Unix(),
		Exp:         now.Add(TokenTTL).Unix(),
		Jti:         ulid.Make().String(),
		Merchant:    caller.MerchantID,
		Integration: caller.IntegrationID,
		Terminal:    terminalID,
		Scope:       strings.Join(granted, " "),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return Token{}, fmt.Errorf("encoding token claims: %w", err)
	}
	headers := jws.NewHeaders()
	if err := headers.Set(jws.KeyIDKey, key.kid); err != nil {
		return Token{}, fmt.Errorf("setting kid: %w", err)
	}
	if err := headers.Set(jws.TypeKey, "JWT"); err != nil {
		return Token{}, fmt.Errorf("setting typ: %w", err)
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), key.private, jws.WithProtectedHeaders(headers)))
	if err != nil {
		return Token{}, fmt.Errorf("signing token: %w", err)
	}
	return Token{
		Token:      string(signed),
		KeyID:      caller.KeyID,
		TerminalID: terminalID,
		Scopes:     slices.Clone(granted),
		TokenID:    claims.Jti,
		SigningKID: key.kid,
		IssuedAt:   now,
		ExpiresAt:  now.Add(TokenTTL),
	}, nil
}

// terminalScopes are the scopes a terminal may act with out of those of a
// key or a token's claims: all but qr:mint. A token that claims qr:mint was
// minted before the rule existed; it keeps its other scopes for the rest of
// its 600 seconds rather than failing a till mid-sale.
func terminalScopes(scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return sc == ScopeQRMint })
}

func validTerminalID(id string) bool {
	if id == "" || len(id) > maxTerminalIDLength {
		return false
	}
	for _, r := range id {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ValidateToken says whether a terminal JWT would be accepted now, and if
// not, why. The error is only for failures to find out (the database).
func (s *Service) ValidateToken(ctx context.Context, raw string) (TokenStatus, error) {
	claims, reason, err := s.verifyToken(ctx, raw)
	if err != nil {
		return TokenStatus{}, err
	}
	st := TokenStatus{Reason: reason}
	if reason == ReasonMalformed || reason == ReasonBadSignature {
		return st, nil
	}
	st.Claims = &claims
	if reason == "" {
		_, err := s.tokenKey(ctx, claims)
		switch {
		case errors.Is(err, errUntrustedSigningKey):
			// As if a stranger had signed it: nothing in it is reported.
			st.Reason, st.Claims = ReasonBadSignature, nil
		case errors.Is(err, ErrKeyRevoked):
			st.Reason = ReasonRevoked
		case errors.Is(err, ErrTokenExceedsKey):
			// Not a token we minted: nothing in it is reported back.
			st.Reason, st.Claims = ReasonMalformed, nil
		case err != nil:
			return TokenStatus{}, err
		}
	}
	st.Valid = st.Reason == ""
	if st.Valid {
		// Never more than the lifetime, even on a replica whose clock lags.
		st.RemainingTTL = min(claims.ExpiresAt.Sub(s.now()), TokenTTL)
	}
	return st, nil
}

// verifyToken checks a JWT's form, signature, issuer, audience, lifetime
// and expiry, with the signing key's material (cached; read once per kid).
// Whether that signing key may still verify is decided on every use by
// tokenKey, in the same read as the key behind the token.
// A reason is returned for a token that fails; err only when the check
// itself could not be made.
func (s *Service) verifyToken(ctx context.Context, raw string) (Claims, TokenReason, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return Claims{}, ReasonMalformed, nil
	}
	var header struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if !decodeSegment(parts[0], &header) || header.Crit != nil {
		return Claims{}, ReasonMalformed, nil
	}
	// Only ES256 is ever accepted: "none", HMAC with the public key as the
	// secret, and every other algorithm are refused before any key is used.
	if header.Alg != signingAlgorithm || header.Kid == "" || parts[2] == "" {
		return Claims{}, ReasonBadSignature, nil
	}
	key, err := s.verificationKey(ctx, header.Kid)
	if err != nil {
		return Claims{}, "", err
	}
	if key == nil {
		return Claims{}, ReasonBadSignature, nil
	}
	payload, verified := verifySignature(raw, key)
	if !verified {
		return Claims{}, ReasonBadSignature, nil
	}
	var cs claimSet
	if !parsesAs(payload, &cs) {
		return Claims{}, ReasonMalformed, nil
	}
	if cs.Iss != s.cfg.Issuer || !slices.Contains(cs.Aud, s.cfg.Audience) ||
		cs.Sub == "" || cs.Merchant == "" || cs.Integration == "" || cs.Terminal == "" ||
		cs.Jti == "" || cs.Iat == 0 || cs.Exp <= cs.Iat || !withinLifetime(cs, s.now()) {
		return Claims{}, ReasonMalformed, nil
	}
	claims := Claims{
		SigningKID:    header.Kid,
		KeyID:         cs.Sub,
		MerchantID:    cs.Merchant,
		IntegrationID: cs.Integration,
		TerminalID:    cs.Terminal,
		TokenID:       cs.Jti,
		Scopes:        strings.Fields(cs.Scope),
		IssuedAt:      time.Unix(cs.Iat, 0).UTC(),
		ExpiresAt:     time.Unix(cs.Exp, 0).UTC(),
	}
	if !s.now().Before(claims.ExpiresAt) {
		return claims, ReasonExpired, nil
	}
	return claims, "", nil
}

// withinLifetime says whether a token lives no longer than we ever issue
// (TokenTTL) and was not issued in the future: a token that would outlive
// those bounds was not minted by IssueToken, whoever holds the signing key.
// Without the iat bound a token dated next year would be good next year.
func withinLifetime(cs claimSet, now time.Time) bool {
	return cs.Exp-cs.Iat <= int64(TokenTTL/time.Second) && !time.Unix(cs.Iat, 0).After(now.Add(ClockSkew))
}

// decodeSegment reads one base64url JSON segment of a JWT.
func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && parsesAs(b, v)
}

// parsesAs says whether b is JSON that decodes into v.
func parsesAs(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }

// verifySignature checks an ES256 signature and returns the signed payload.
func verifySignature(raw string, key *signingKey) ([]byte, bool) {
	payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.ES256(), key.public))
	return payload, err == nil
}

// tokenKey checks, on every use of a token, that the key behind it still
// exists, is active and has not expired, and that the token claims no scope
// the key does not hold now: one indexed read.
func (s *Service) tokenKey(ctx context.Context, c Claims) (db.ApiKeyGetForAuthRow, error) {
	row, err := dbx.Q(ctx, s.pool).ApiKeyGetForAuth(ctx, db.ApiKeyGetForAuthParams{
		SigningKid: c.SigningKID, ID: c.KeyID, IntegrationID: c.IntegrationID, MerchantID: c.MerchantID,
	})
	if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
		return row, deny(ErrKeyRevoked, "the API key behind this token was deleted")
	}
	if err != nil {
		return row, fmt.Errorf("reading the key behind a token: %w", err)
	}
	if !row.SigningKeyKnown || !trustedAt(s.now(), row.SigningKeyRetiredAt, row.SigningKeyRevokedAt) {
		return row, errUntrustedSigningKey
	}
	if KeyStatus(row.ApiKey.Status) == KeyRevoked {
		return row, deny(ErrKeyRevoked, "the API key behind this token was revoked")
	}
	if row.ApiKey.ExpiresAt != nil && !row.ApiKey.ExpiresAt.After(s.now()) {
		return row, deny(ErrKeyRevoked, "the API key behind this token has expired")
	}
	if missing := missingScopes(row.ApiKey.Scopes, c.Scopes); len(missing) > 0 {
		return row, deny(ErrTokenExceedsKey, "the bearer token claims scopes its API key does not hold")
	}
	return row, nil
}

// errUntrustedSigningKey: the token was signed by a signing key retired
// longer ago than RetiredKeyGrace, or killed; it is refused as badly
// signed.
var errUntrustedSigningKey = deny(ErrUnauthenticated, "the bearer token's signature does not verify")
