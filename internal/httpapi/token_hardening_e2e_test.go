package httpapi_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/auth"
)

// stolenSigningKey reads a signing key's private half from the database as
// an attacker holding a dump and the KEK would: a plaintext PKCS #8 row as
// written before encryption at rest, or AES-256-GCM under apptest.KEK
// (nonce, then ciphertext and tag; the kid as additional data).
func stolenSigningKey(t *testing.T, pool *pgxpool.Pool, kid string) *ecdsa.PrivateKey {
	t.Helper()
	var plain, sealedHex *string
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT to_jsonb(k)->>'private_key', to_jsonb(k)->>'sealed_private_key' FROM signing_keys k WHERE kid = $1`, kid).Scan(&plain, &sealedHex))
	der := pgBytea(t, plain)
	if sealed := pgBytea(t, sealedHex); sealed != nil {
		block, err := aes.NewCipher(apptest.KEK)
		require.NoError(t, err)
		gcm, err := cipher.NewGCM(block)
		require.NoError(t, err)
		der, err = gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(kid))
		require.NoError(t, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	return key.(*ecdsa.PrivateKey)
}

// pgBytea decodes bytea as to_jsonb writes it (\x and hex); nil for null.
func pgBytea(t *testing.T, s *string) []byte {
	t.Helper()
	if s == nil {
		return nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(*s, `\x`))
	require.NoError(t, err)
	return b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// forgeToken signs claims that copy a real token's, with overrides, using a
// stolen signing key.
func forgeToken(t *testing.T, key *ecdsa.PrivateKey, real string, override map[string]any) string {
	t.Helper()
	header, claims := jwtParts(t, real)
	for k, v := range override {
		claims[k] = v
	}
	return esSign(t, key, header["kid"].(string), claims)
}

func requireRefused(t *testing.T, e *authEnv, token string, want client.TokenInvalidReason) {
	t.Helper()
	caps := e.capabilities(t, withBearer(token))
	requireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, caps.StatusCode(), caps.Body)
	v := e.validate(t, token)
	require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
	require.False(t, v.JSON200.Data.Valid, "body: %s", v.Body)
	require.Equal(t, want, *v.JSON200.Data.Reason)
	require.Nil(t, v.JSON200.Data.KeyId, "nothing of an untrusted token is reported back")
	require.Empty(t, v.JSON200.Data.Scopes)
}

func TestTokensCannotOutliveOrExceedTheirKey(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	secret, _ := e.newKey(t, e.admin, "till fleet", client.ScopeTokensIssue, client.ScopeCustomersRead)
	real := e.mint(t, secret)
	header, _ := jwtParts(t, real)
	stolen := stolenSigningKey(t, e.s.Pool, header["kid"].(string))
	now := time.Now().Unix()
	year := int64(365 * 24 * 3600)

	t.Run("TheStolenKeyIsTheRealOne", func(t *testing.T) {
		// The forgeries below are refused for what they claim, not for
		// their signature: an unchanged copy verifies.
		v := e.validate(t, forgeToken(t, stolen, real, nil))
		require.True(t, v.JSON200.Data.Valid, "body: %s", v.Body)
	})
	t.Run("AYearLongTokenWithScopesItsKeyNeverHadIsRefused", func(t *testing.T) {
		requireRefused(t, e, forgeToken(t, stolen, real, map[string]any{
			"iat": now, "exp": now + year, "scope": "tokens:issue customers:read customers:write payments:write grants:clawback",
		}), client.TokenInvalidReasonMalformed)
	})
	t.Run("AYearLongTokenIsRefused", func(t *testing.T) {
		requireRefused(t, e, forgeToken(t, stolen, real, map[string]any{"iat": now, "exp": now + year}), client.TokenInvalidReasonMalformed)
	})
	t.Run("ALifetimeOneSecondOverTheTTLIsRefused", func(t *testing.T) {
		requireRefused(t, e, forgeToken(t, stolen, real, map[string]any{"iat": now, "exp": now + 601}), client.TokenInvalidReasonMalformed)
	})
	t.Run("ATokenDatedNextYearIsRefused", func(t *testing.T) {
		requireRefused(t, e, forgeToken(t, stolen, real, map[string]any{"iat": now + year - 300, "exp": now + year + 300}), client.TokenInvalidReasonMalformed)
	})
	t.Run("AScopeBeyondTheKeyIsRefused", func(t *testing.T) {
		requireRefused(t, e, forgeToken(t, stolen, real, map[string]any{"scope": "customers:read payments:write"}), client.TokenInvalidReasonMalformed)
	})
}

func TestRetiredSigningKeyTrustEndsWithItsWindow(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	two := &authEnv{ctx: e.ctx, s: apptest.StartOn(t, e.s.Pool), svc: e.svc, boot: e.boot, admin: e.admin}
	old := e.mint(t, e.admin, client.ScopeCustomersRead)
	header, _ := jwtParts(t, old)
	oldKid := header["kid"].(string)
	stolen := stolenSigningKey(t, e.s.Pool, oldKid)
	for _, env := range []*authEnv{e, two} {
		require.True(t, env.validate(t, old).JSON200.Data.Valid, "warms every replica's cache of the old key")
	}
	_, err := e.svc.RotateSigningKey(e.ctx)
	require.NoError(t, err)
	require.True(t, e.validate(t, old).JSON200.Data.Valid, "within the window a retired key still verifies")

	for _, env := range []*authEnv{e, two} { // each replica reads its own clock
		env.s.Clock.Advance(auth.RetiredKeyGrace + time.Minute)
	}
	now := e.s.Clock.Now().Unix()
	fresh := forgeToken(t, stolen, old, map[string]any{"iat": now, "exp": now + 600, "jti": "01JWR61VGMSZRJ1DM74VBFJCPE"})
	for replica, env := range map[string]*authEnv{"One": e, "Two": two} {
		t.Run("AFreshTokenFromTheLeakedRetiredKeyIsRefusedBy"+replica, func(t *testing.T) {
			requireRefused(t, env, fresh, client.TokenInvalidReasonBadSignature)
		})
		t.Run("ItsEarlierTokenIsRefusedBy"+replica, func(t *testing.T) {
			// Minted before the key retired, it has outlived its own 600
			// seconds too (the window is longer than a token's life), and
			// that is what both answers name.
			caps := env.capabilities(t, withBearer(old))
			requireCode(t, http.StatusUnauthorized, client.ErrorCodeTokenExpired, caps.StatusCode(), caps.Body)
			v := env.validate(t, old)
			require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
			require.False(t, v.JSON200.Data.Valid, "body: %s", v.Body)
			require.Equal(t, client.TokenInvalidReasonExpired, *v.JSON200.Data.Reason)
		})
		t.Run("ItIsNoLongerPublishedBy"+replica, func(t *testing.T) {
			require.NotContains(t, jwksKids(t, env), oldKid)
		})
	}
}

func jwksKids(t *testing.T, e *authEnv) []string {
	t.Helper()
	res, err := e.s.Client.GetJwksWithResponse(e.ctx, &client.GetJwksParams{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	var kids []string
	for _, k := range res.JSON200.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestSigningKeysAreSealedAtRest(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	token := e.mint(t, e.admin)

	t.Run("NoPrivateKeyIsStoredInPlaintext", func(t *testing.T) {
		requireNoPlaintextKeys(t, e)
	})

	t.Run("APlaintextKeyFromBeforeIsSealedOnTheNextStart", func(t *testing.T) {
		header, _ := jwtParts(t, token)
		kid := header["kid"].(string)
		der, err := x509.MarshalPKCS8PrivateKey(stolenSigningKey(t, e.s.Pool, kid))
		require.NoError(t, err)
		_, err = e.s.Pool.Exec(e.ctx, `UPDATE signing_keys SET private_key = $2, sealed_private_key = NULL WHERE kid = $1`, kid, der)
		require.NoError(t, err)
		restarted := &authEnv{ctx: e.ctx, s: apptest.StartOn(t, e.s.Pool), svc: e.svc, boot: e.boot, admin: e.admin}
		requireNoPlaintextKeys(t, e)
		require.True(t, restarted.validate(t, token).JSON200.Data.Valid)
		require.True(t, restarted.validate(t, restarted.mint(t, e.admin)).JSON200.Data.Valid)
	})
}

// requireNoPlaintextKeys reads the signing_keys table: no private_key in
// the clear, and no column holds a key's PKCS #8 bytes.
func requireNoPlaintextKeys(t *testing.T, e *authEnv) {
	t.Helper()
	rows, err := e.s.Pool.Query(e.ctx, `SELECT kid, private_key IS NULL, sealed_private_key, to_jsonb(k)::text FROM signing_keys k`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kid, whole string
		var plainIsNull bool
		var sealed []byte
		require.NoError(t, rows.Scan(&kid, &plainIsNull, &sealed, &whole))
		require.True(t, plainIsNull, "signing key %s is stored in plaintext", kid)
		der, err := x509.MarshalPKCS8PrivateKey(stolenSigningKey(t, e.s.Pool, kid))
		require.NoError(t, err)
		require.False(t, bytes.Contains(sealed, der[len(der)-32:]), "the sealed column holds the key's bytes")
		require.NotContains(t, whole, hexOf(der[len(der)-32:]))
		n++
	}
	require.NoError(t, rows.Err())
	require.Positive(t, n)
}

func TestKeyManagementRespectsRank(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	operator := client.ApiKeyRoleOperator
	op := e.createKey(t, e.admin, "ops", scopes(client.ScopeKeysManage, client.ScopeGrantsClawback, client.ScopeTokensIssue), &operator)
	require.Equal(t, http.StatusOK, op.StatusCode(), "body: %s", op.Body)
	opSecret, opID := *op.JSON200.Data.ApiKey, op.JSON200.Data.Key.Id
	manager, _ := e.newKey(t, e.admin, "key manager", client.ScopeKeysManage, client.ScopeTokensIssue)
	_, wideID := e.newKey(t, e.admin, "wide", client.ScopeCustomersRead)

	for name, target := range map[string]string{"AnOperatorKey": opID, "AKeyWithAScopeTheCallerLacks": wideID} {
		t.Run("AnIntegrationKeyCannotRevoke"+name, func(t *testing.T) {
			res := e.revoke(t, manager, target)
			requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		})
		t.Run("AnIntegrationKeyCannotDelete"+name, func(t *testing.T) {
			res := e.deleteKey(t, manager, target)
			requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		})
	}
	t.Run("TheOperatorKeyStillWorks", func(t *testing.T) {
		require.Equal(t, http.StatusOK, e.capabilities(t, withKey(opSecret)).StatusCode())
	})
	t.Run("AKeyWithinTheCallersRankCanBeRevokedAndDeleted", func(t *testing.T) {
		_, peer := e.newKey(t, e.admin, "peer", client.ScopeTokensIssue)
		require.Equal(t, http.StatusOK, e.revoke(t, manager, peer).StatusCode())
		require.Equal(t, http.StatusOK, e.deleteKey(t, manager, peer).StatusCode())
	})
	t.Run("AnOperatorCanRevokeAndDeleteAnOperator", func(t *testing.T) {
		require.Equal(t, http.StatusOK, e.revoke(t, e.admin, opID).StatusCode())
		require.Equal(t, http.StatusOK, e.deleteKey(t, e.admin, opID).StatusCode())
	})
}

func (e *authEnv) deleteKey(t *testing.T, by, keyID string) *client.DeleteApiKeyResponse {
	t.Helper()
	res, err := e.s.Client.DeleteApiKeyWithResponse(e.ctx, keyID, &client.DeleteApiKeyParams{IdempotencyKey: newIdemKey()},
		client.DeleteApiKeyInput{Meta: reqMeta()}, withKey(by))
	require.NoError(t, err)
	return res
}

func TestDeletedKeyLeavesATombstone(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	secret, id := e.newKey(t, e.admin, "till 7", client.ScopeTokensIssue, client.ScopeCustomersRead)
	token := e.mint(t, secret)
	var prefix string
	var hash []byte
	require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT prefix, secret_hash FROM api_keys WHERE id = $1`, id).Scan(&prefix, &hash))
	before := time.Now()
	require.Equal(t, http.StatusOK, e.deleteKey(t, e.admin, id).StatusCode())

	t.Run("TheTombstoneSaysWhoseKeyItWasAndWhoDeletedIt", func(t *testing.T) {
		var name, role, deletedBy string
		var sc []string
		var deletedAt time.Time
		require.NoError(t, e.s.Pool.QueryRow(e.ctx,
			`SELECT name, role, scopes, deleted_by_key_id, deleted_at FROM api_key_tombstones WHERE id = $1 AND integration_id = $2`,
			id, e.boot.Integration.ID).Scan(&name, &role, &sc, &deletedBy, &deletedAt))
		require.Equal(t, "till 7", name)
		require.Equal(t, "integration", role)
		require.Equal(t, []string{"tokens:issue", "customers:read"}, sc)
		require.Equal(t, e.boot.Key.Key.ID, deletedBy)
		require.WithinDuration(t, before, deletedAt, time.Minute)
	})
	t.Run("TheDomainResolvesTheDeletedKeyForAudit", func(t *testing.T) {
		admin, err := e.svc.Authenticate(e.ctx, auth.Credentials{APIKey: e.admin})
		require.NoError(t, err)
		gone, err := e.svc.DeletedKey(e.ctx, admin, id)
		require.NoError(t, err)
		require.Equal(t, "till 7", gone.Name)
		require.Equal(t, e.boot.Key.Key.ID, gone.DeletedByKeyID)
		_, err = e.svc.GetKey(e.ctx, admin, id)
		require.ErrorIs(t, err, auth.ErrNotFound)
	})
	t.Run("TheTombstoneHoldsNoSecret", func(t *testing.T) {
		var whole string
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT to_jsonb(t)::text FROM api_key_tombstones t WHERE id = $1`, id).Scan(&whole))
		for _, secretish := range []string{secret, prefix, hexOf(hash)} {
			require.NotContains(t, whole, secretish)
		}
	})
	t.Run("TheKeyIsGoneFromListingsAndAuthentication", func(t *testing.T) {
		list, err := e.s.Client.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{}, withKey(e.admin))
		require.NoError(t, err)
		require.False(t, slices.ContainsFunc(list.JSON200.Data.Items, func(k client.ApiKey) bool { return k.Id == id }))
		caps := e.capabilities(t, withKey(secret))
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, caps.StatusCode(), caps.Body)
		caps = e.capabilities(t, withBearer(token))
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)
	})
}
