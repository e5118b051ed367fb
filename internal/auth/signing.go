package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// signingAlgorithm is the one JWS algorithm tokens are signed and accepted
// with.
const signingAlgorithm = "ES256"

// ClockSkew is the margin allowed for clocks that differ between replicas
// and the database: how far in the future a token's iat may be, and how
// much longer than a token's lifetime a retired signing key stays trusted.
const ClockSkew = 5 * time.Minute

// RetiredKeyGrace is how long a retired signing key stays published and
// trusted after rotation: the lifetime of the last token it signed plus
// ClockSkew. Past it the key verifies nothing (a token it signed is
// bad_signature, as a stranger's would be) and it leaves the JWKS, so a
// retired key's private half, if it leaks later, mints nothing we accept.
const RetiredKeyGrace = TokenTTL + ClockSkew

// PublicJWK is one public signing key as RFC 7517 writes it.
type PublicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// signingKey is a signing key parsed from its row.
type signingKey struct {
	kid     string
	private *ecdsa.PrivateKey
	public  *ecdsa.PublicKey
}

// newSigningKeyRow makes a fresh ES256 key, its private half sealed with the
// current KEK; its kid is the RFC 7638 thumbprint of the public key.
func (s *Service) newSigningKeyRow() (db.SigningKeyInsertParams, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("encoding signing key: %w", err)
	}
	pub, err := jwk.Import(&priv.PublicKey)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("converting signing key: %w", err)
	}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("computing key id: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.ES256(), jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(k, v); err != nil {
			return db.SigningKeyInsertParams{}, fmt.Errorf("setting %s: %w", k, err)
		}
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("encoding public key: %w", err)
	}
	sealed, err := s.keyring.seal(kid, der)
	if err != nil {
		return db.SigningKeyInsertParams{}, fmt.Errorf("sealing signing key: %w", err)
	}
	return db.SigningKeyInsertParams{Kid: kid, Algorithm: signingAlgorithm, SealedPrivateKey: sealed, PublicJwk: pubJSON}, nil
}

// EnsureSigningKey makes sure a current signing key exists, creating one on
// the first start, and seals any key still stored in plaintext (written
// before encryption at rest). Replicas starting together create exactly
// one: they queue on a database lock, and the later ones find the key.
func (s *Service) EnsureSigningKey(ctx context.Context) (kid string, err error) {
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (string, error) {
		if err := q.SigningKeyLock(ctx); err != nil {
			return "", fmt.Errorf("locking signing keys: %w", err)
		}
		if err := s.sealPlaintextKeys(ctx, q); err != nil {
			return "", err
		}
		current, err := q.SigningKeyGetCurrent(ctx)
		if err == nil {
			return current.Kid, nil
		}
		if !errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
			return "", fmt.Errorf("reading the current signing key: %w", err)
		}
		return s.insertSigningKey(ctx, q)
	})
}

// RotateSigningKey retires the current signing key and makes a new one
// current. Tokens the retired key signed stay valid until they expire: the
// key still verifies them and stays in the JWKS for RetiredKeyGrace.
func (s *Service) RotateSigningKey(ctx context.Context) (kid string, err error) {
	return s.rotateSigningKey(ctx, false)
}

// RotateSigningKeyRevokingPrevious rotates and kills every retired key at
// once, for a leak: from the commit on, no replica accepts a token they
// signed, and they leave the JWKS. Terminals mint new tokens.
func (s *Service) RotateSigningKeyRevokingPrevious(ctx context.Context) (kid string, err error) {
	return s.rotateSigningKey(ctx, true)
}

func (s *Service) rotateSigningKey(ctx context.Context, revokePrevious bool) (string, error) {
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (string, error) {
		if err := q.SigningKeyLock(ctx); err != nil {
			return "", fmt.Errorf("locking signing keys: %w", err)
		}
		now := s.now()
		if _, err := q.SigningKeyRetireCurrent(ctx, now); err != nil {
			return "", fmt.Errorf("retiring the current signing key: %w", err)
		}
		if revokePrevious {
			if _, err := q.SigningKeyRevokeRetired(ctx, now); err != nil {
				return "", fmt.Errorf("revoking the retired signing keys: %w", err)
			}
		}
		return s.insertSigningKey(ctx, q)
	})
}

func (s *Service) insertSigningKey(ctx context.Context, q *db.Queries) (string, error) {
	params, err := s.newSigningKeyRow()
	if err != nil {
		return "", err
	}
	row, err := q.SigningKeyInsert(ctx, params)
	if err != nil {
		return "", fmt.Errorf("storing signing key: %w", dbx.Interpret(err))
	}
	return row.Kid, nil
}

// JWKS returns the public keys a verifier needs: the current key and the
// keys retired within RetiredKeyGrace and not killed, newest first.
// A database without a signing key gets its first one here, so the set is
// never empty.
func (s *Service) JWKS(ctx context.Context) ([]PublicJWK, error) {
	published := db.SigningKeyListPublishedParams{AsOf: s.now(), GraceSeconds: RetiredKeyGrace.Seconds()}
	rows, err := dbx.Q(ctx, s.pool).SigningKeyListPublished(ctx, published)
	if err == nil && len(rows) == 0 {
		if _, err = s.EnsureSigningKey(ctx); err == nil {
			rows, err = dbx.Q(ctx, s.pool).SigningKeyListPublished(ctx, published)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing signing keys: %w", err)
	}
	out := make([]PublicJWK, 0, len(rows))
	for _, r := range rows {
		var k PublicJWK
		if err := json.Unmarshal(r.PublicJwk, &k); err != nil {
			return nil, fmt.Errorf("reading public key %s: %w", r.Kid, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// currentSigningKey returns the key new tokens are signed with, creating
// one if the service started on an empty database without EnsureSigningKey.
func (s *Service) currentSigningKey(ctx context.Context) (*signingKey, error) {
	row, err := dbx.Q(ctx, s.pool).SigningKeyGetCurrent(ctx)
	if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
		if _, err := s.EnsureSigningKey(ctx); err != nil {
			return nil, err
		}
		row, err = dbx.Q(ctx, s.pool).SigningKeyGetCurrent(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the current signing key: %w", err)
	}
	return s.parsedSigningKey(row)
}

// verificationKey returns the key material of a kid, nil when there is
// none or when the key is not trusted as it is first read. The material is
// cached by kid (it never changes); whether the key may still verify is
// decided on every use, with the read of the key behind the token
// (tokenKey), so every replica agrees the moment a key is retired or killed.
func (s *Service) verificationKey(ctx context.Context, kid string) (*signingKey, error) {
	if k, ok := s.keys.Load(kid); ok {
		return k.(*signingKey), nil
	}
	row, err := dbx.Q(ctx, s.pool).SigningKeyGet(ctx, kid)
	if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	if !trustedAt(s.now(), row.RetiredAt, row.RevokedAt) {
		return nil, nil
	}
	return s.parsedSigningKey(row)
}

// trustedAt says whether a signing key retired and revoked at these times
// (nil: not) may verify a token at now.
func trustedAt(now time.Time, retiredAt, revokedAt *time.Time) bool {
	return revokedAt == nil && (retiredAt == nil || now.Before(retiredAt.Add(RetiredKeyGrace)))
}

func (s *Service) parsedSigningKey(row db.SigningKey) (*signingKey, error) {
	if k, ok := s.keys.Load(row.Kid); ok {
		return k.(*signingKey), nil
	}
	if row.Algorithm != signingAlgorithm {
		return nil, fmt.Errorf("signing key %s has unsupported algorithm %s", row.Kid, row.Algorithm)
	}
	der := row.PrivateKey // a row written before encryption at rest
	if row.SealedPrivateKey != nil {
		var err error
		if der, err = s.keyring.open(row.Kid, row.SealedPrivateKey); err != nil {
			return nil, err
		}
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decoding signing key %s: %w", row.Kid, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s is not a P-256 key", row.Kid)
	}
	k := &signingKey{kid: row.Kid, private: priv, public: &priv.PublicKey}
	actual, _ := s.keys.LoadOrStore(row.Kid, k)
	return actual.(*signingKey), nil
}
