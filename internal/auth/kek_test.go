package auth_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

func kekConfig(t *testing.T, env config.Environment, kek, previous []byte) auth.Config {
	t.Helper()
	cfg := config.Defaults()
	return auth.Config{
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Environment: env,
		Scopes: documentScopes(t), KEK: kek, KEKPrevious: previous,
	}
}

func TestKEK(t *testing.T) {
	t.Parallel()
	kekA := bytes.Repeat([]byte{0xA1}, auth.KEKSize)
	kekB := bytes.Repeat([]byte{0xB2}, auth.KEKSize)

	t.Run("LiveRefusesToRunWithoutOne", func(t *testing.T) {
		t.Parallel()
		_, err := auth.New(testdb.New(t), kekConfig(t, config.Live, nil, nil))
		require.ErrorContains(t, err, "FEDDI_KEK is required in live")
	})
	t.Run("SandboxWithoutOneStillSealsItsKeys", func(t *testing.T) {
		t.Parallel()
		pool := testdb.New(t)
		svc := newService(t, pool, serviceOpts{})
		_, err := svc.EnsureSigningKey(context.Background())
		require.NoError(t, err)
		var plaintext int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM signing_keys WHERE private_key IS NOT NULL`).Scan(&plaintext))
		require.Zero(t, plaintext)
	})
	t.Run("AWrongKEKFailsLoudlyInsteadOfMakingANewKey", func(t *testing.T) {
		t.Parallel()
		pool := testdb.New(t)
		a, err := auth.New(pool, kekConfig(t, config.Live, kekA, nil))
		require.NoError(t, err)
		boot, err := a.Bootstrap(context.Background(), "M", "POS")
		require.NoError(t, err)
		p, err := a.Authenticate(context.Background(), auth.Credentials{APIKey: boot.Key.Secret})
		require.NoError(t, err)
		_, err = a.IssueToken(context.Background(), p, "till", nil)
		require.NoError(t, err)

		b, err := auth.New(pool, kekConfig(t, config.Live, kekB, nil))
		require.NoError(t, err)
		_, err = b.IssueToken(context.Background(), p, "till", nil)
		require.ErrorIs(t, err, auth.ErrKEKMismatch)

		both, err := auth.New(pool, kekConfig(t, config.Live, kekB, kekA))
		require.NoError(t, err)
		_, err = both.IssueToken(context.Background(), p, "till", nil)
		require.NoError(t, err, "while both are set either opens")
		n, err := both.RotateKEK(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = b.IssueToken(context.Background(), p, "till", nil)
		require.NoError(t, err, "after rotate-kek the new KEK alone opens every key")
	})
}

// BenchmarkTokenVerification measures what a request with a terminal JWT
// costs in authentication: the signature, the signing key's trust read and
// the API key read (docs/authentication.md quotes it).
func BenchmarkTokenVerification(b *testing.B) {
	ctx := context.Background()
	doc, err := loadSpec()
	require.NoError(b, err)
	scopes, err := auth.ScopesOf(doc)
	require.NoError(b, err)
	cfg := config.Defaults()
	svc, err := auth.New(testdb.New(b), auth.Config{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Scopes: scopes})
	require.NoError(b, err)
	boot, err := svc.Bootstrap(ctx, "M", "POS")
	require.NoError(b, err)
	p, err := svc.Authenticate(ctx, auth.Credentials{APIKey: boot.Key.Secret})
	require.NoError(b, err)
	tok, err := svc.IssueToken(ctx, p, "till-01", nil)
	require.NoError(b, err)
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, auth.Credentials{BearerToken: tok.Token}); err != nil {
			b.Fatal(err)
		}
	}
}
