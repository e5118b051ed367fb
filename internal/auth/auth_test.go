package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/openapi"
)

var loadSpec = sync.OnceValues(func() (*spec.Spec, error) { return spec.Load(openapi.Document) })

func documentScopes(t *testing.T) []string {
	t.Helper()
	doc, err := loadSpec()
	require.NoError(t, err)
	scopes, err := auth.ScopesOf(doc)
	require.NoError(t, err)
	return scopes
}

type serviceOpts struct {
	now      func() time.Time
	audience string
}

func newService(t *testing.T, pool *pgxpool.Pool, o serviceOpts) *auth.Service {
	t.Helper()
	cfg := config.Defaults()
	audience := cfg.JWTAudience
	if o.audience != "" {
		audience = o.audience
	}
	svc, err := auth.New(pool, auth.Config{
		Issuer:      cfg.JWTIssuer,
		Audience:    audience,
		Environment: config.Sandbox,
		Scopes:      documentScopes(t),
		Now:         o.now,
	})
	require.NoError(t, err)
	return svc
}

// bundle is a fresh database with one bootstrapped tenant.
type bundle struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	svc   *auth.Service
	boot  auth.Bootstrapped
	admin auth.Principal // the bootstrap key: every scope, operator
	clock *clock.Clock   // the service's clock; a test advancing it owns the bundle
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := testdb.New(t)
	clk := clock.New()
	svc := newService(t, pool, serviceOpts{now: clk.Now})
	boot, err := svc.Bootstrap(ctx, "Test Merchant", "Test POS")
	require.NoError(t, err)
	admin, err := svc.Authenticate(ctx, auth.Credentials{APIKey: boot.Key.Secret})
	require.NoError(t, err)
	return &bundle{ctx: ctx, pool: pool, svc: svc, boot: boot, admin: admin, clock: clk}
}

// key creates a key and returns its principal and secret.
func (b *bundle) key(t *testing.T, creator auth.Principal, in auth.NewKey) (auth.Principal, auth.IssuedKey) {
	t.Helper()
	issued, err := b.svc.CreateKey(b.ctx, creator, in)
	require.NoError(t, err)
	p, err := b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
	require.NoError(t, err)
	return p, issued
}

func (b *bundle) token(t *testing.T, p auth.Principal, scopes []string) auth.Token {
	t.Helper()
	tok, err := b.svc.IssueToken(b.ctx, p, "till-01", scopes)
	require.NoError(t, err)
	return tok
}

// requireErr checks err is sentinel, and an *auth.Error or, about one
// input, a *fielderr.Error.
func requireErr(t *testing.T, err error, sentinel error) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var e *auth.Error
	var fe *fielderr.Error
	require.True(t, errors.As(err, &e) || errors.As(err, &fe), "%T is neither an *auth.Error nor a *fielderr.Error", err)
}

// fieldOf and detailsOf read what the error says about the input: the
// field in the package's terms, indexes filled in ("" when none).
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fe *fielderr.Error
	if !errors.As(err, &fe) {
		return ""
	}
	return fe.Path()
}

func detailsOf(t *testing.T, err error) map[string]any {
	t.Helper()
	var d interface{ Details() map[string]any }
	require.ErrorAs(t, err, &d)
	return d.Details()
}

func TestDocumentEnums(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	require.NoError(t, err)
	enum := func(name string) []string {
		var out []string
		for _, v := range doc.Doc.Components.Schemas[name].Value.Enum {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}

	t.Run("ScopesComeFromTheScopeEnum", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, enum("Scope"), documentScopes(t))
		require.Len(t, documentScopes(t), 15)
	})
	t.Run("RolesMatchTheApiKeyRoleEnum", func(t *testing.T) {
		t.Parallel()
		var roles []string
		for _, r := range auth.Roles() {
			roles = append(roles, string(r))
		}
		require.Equal(t, enum("ApiKeyRole"), roles)
	})
	t.Run("KindsMatchTheCredentialKindEnum", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, enum("CredentialKind"), []string{string(auth.KindAPIKey), string(auth.KindTerminalJWT)})
	})
	t.Run("ReasonsMatchTheTokenInvalidReasonEnum", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, enum("TokenInvalidReason"), []string{
			string(auth.ReasonExpired), string(auth.ReasonRevoked), string(auth.ReasonMalformed), string(auth.ReasonBadSignature),
		})
	})
	t.Run("StatusesMatchTheApiKeyStatusEnum", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, enum("ApiKeyStatus"), []string{string(auth.KeyActive), string(auth.KeyRevoked)})
	})
}

func TestBootstrap(t *testing.T) {
	t.Parallel()

	t.Run("CreatesATenantWithAnOperatorKeyHoldingEveryScopeButQrMint", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Regexp(t, `^mer_[0-9A-Z]{26}$`, b.boot.Merchant.ID)
		require.Regexp(t, `^int_[0-9A-Z]{26}$`, b.boot.Integration.ID)
		require.Regexp(t, `^fk_test_[0-9A-Za-z]{43}$`, b.boot.Key.Secret)
		require.True(t, strings.HasPrefix(b.boot.Key.Secret, b.boot.Key.Key.Prefix))
		require.Equal(t, auth.RoleOperator, b.admin.Role)
		require.Equal(t, slices.DeleteFunc(documentScopes(t), func(s string) bool { return s == auth.ScopeQRMint }), b.admin.Scopes)
		require.Equal(t, auth.KindAPIKey, b.admin.Kind)
		require.Equal(t, b.boot.Merchant.ID, b.admin.MerchantID)
		require.Equal(t, b.boot.Integration.ID, b.admin.IntegrationID)
	})

	t.Run("IfEmptyDoesNothingWhenAMerchantExists", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, created, err := b.svc.BootstrapIfEmpty(b.ctx, "Other", "Other POS")
		require.NoError(t, err)
		require.False(t, created)
	})

	t.Run("IfEmptyCreatesOneMerchantUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		pool := testdb.New(t)
		svc := newService(t, pool, serviceOpts{})
		var wg sync.WaitGroup
		created := make(chan bool, 4)
		for range 4 {
			wg.Go(func() {
				_, ok, err := svc.BootstrapIfEmpty(ctx, "Demo", "Demo POS")
				require.NoError(t, err)
				created <- ok
			})
		}
		wg.Wait()
		close(created)
		n := 0
		for ok := range created {
			if ok {
				n++
			}
		}
		require.Equal(t, 1, n)
	})

	t.Run("RefusesAnEmptyName", func(t *testing.T) {
		t.Parallel()
		pool := testdb.New(t)
		svc := newService(t, pool, serviceOpts{})
		_, err := svc.Bootstrap(context.Background(), " ", "POS")
		requireErr(t, err, auth.ErrInvalid)
	})
}

func TestCreateKey(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("ReturnsTheSecretOnceAndStoresOnlyItsHash", func(t *testing.T) {
		t.Parallel()
		p, issued := b.key(t, b.admin, auth.NewKey{Name: "Tills", Scopes: []string{"payments:write", "customers:read"}})
		require.Equal(t, []string{"customers:read", "payments:write"}, p.Scopes, "scopes are kept in the document's order")
		require.Equal(t, auth.RoleIntegration, p.Role)
		require.Equal(t, auth.KeyActive, issued.Key.Status)
		var stored int
		require.NoError(t, b.pool.QueryRow(b.ctx,
			`SELECT count(*) FROM api_keys WHERE id = $1 AND secret_hash = sha256(convert_to($2, 'UTF8'))`,
			issued.Key.ID, issued.Secret).Scan(&stored))
		require.Equal(t, 1, stored)
		var leaks int
		require.NoError(t, b.pool.QueryRow(b.ctx,
			`SELECT count(*) FROM api_keys WHERE position($1 in (api_keys.*)::text) > 0`, issued.Secret[8:]).Scan(&leaks))
		require.Zero(t, leaks, "the raw secret is nowhere in the row")
	})

	t.Run("RefusesScopesTheCreatorDoesNotHold", func(t *testing.T) {
		t.Parallel()
		narrow, _ := b.key(t, b.admin, auth.NewKey{Name: "Narrow", Scopes: []string{"keys:manage", "customers:read"}})
		_, err := b.svc.CreateKey(b.ctx, narrow, auth.NewKey{Name: "Wider", Scopes: []string{"customers:read", "payments:write"}})
		requireErr(t, err, auth.ErrScopeEscalation)
		require.ErrorIs(t, err, auth.ErrForbidden)
		require.Equal(t, "auth.NewKey.Scopes[1]", fieldOf(t, err))
		require.Equal(t, map[string]any{"missing_scopes": []string{"payments:write"}}, detailsOf(t, err))
	})

	t.Run("GrantsOperatorOnlyFromAnOperator", func(t *testing.T) {
		t.Parallel()
		integ, _ := b.key(t, b.admin, auth.NewKey{Name: "Integration", Scopes: []string{"keys:manage"}})
		_, err := b.svc.CreateKey(b.ctx, integ, auth.NewKey{Name: "Op", Scopes: []string{"keys:manage"}, Role: auth.RoleOperator})
		requireErr(t, err, auth.ErrScopeEscalation)
		op, _ := b.key(t, b.admin, auth.NewKey{Name: "Op", Scopes: []string{"keys:manage"}, Role: auth.RoleOperator})
		require.Equal(t, auth.RoleOperator, op.Role)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		past := time.Now().Add(-time.Minute)
		for name, in := range map[string]auth.NewKey{
			"auth.NewKey.Name":      {Name: "  ", Scopes: []string{"keys:manage"}},
			"auth.NewKey.Scopes":    {Name: "x"},
			"auth.NewKey.Scopes[0]": {Name: "x", Scopes: []string{"wallets:steal"}},
			"auth.NewKey.Role":      {Name: "x", Scopes: []string{"keys:manage"}, Role: "root"},
			"auth.NewKey.ExpiresAt": {Name: "x", Scopes: []string{"keys:manage"}, ExpiresAt: &past},
		} {
			_, err := b.svc.CreateKey(b.ctx, b.admin, in)
			requireErr(t, err, auth.ErrInvalid)
			require.Equal(t, name, fieldOf(t, err))
		}
	})

	t.Run("RefusesATerminalToken", func(t *testing.T) {
		t.Parallel()
		tok := b.token(t, b.admin, nil)
		p, err := b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		require.NoError(t, err)
		_, err = b.svc.CreateKey(b.ctx, p, auth.NewKey{Name: "x", Scopes: []string{"customers:read"}})
		requireErr(t, err, auth.ErrForbidden)
	})

	t.Run("RefusesQrMintWithPaymentsWrite", func(t *testing.T) {
		t.Parallel()
		_, err := b.svc.CreateKey(b.ctx, b.admin, auth.NewKey{Name: "Both", Scopes: []string{"payments:write", "qr:mint"}})
		requireErr(t, err, auth.ErrInvalid)
		require.Equal(t, "auth.NewKey.Scopes", fieldOf(t, err))
		_, err = b.pool.Exec(b.ctx, `UPDATE api_keys SET scopes = scopes || '{qr:mint}' WHERE id = $1`, b.admin.KeyID)
		require.Error(t, err, "the database refuses such a key too")
	})

	t.Run("QrMintIsGrantedOnlyByAnOperator", func(t *testing.T) {
		t.Parallel()
		app, _ := b.key(t, b.admin, auth.NewKey{Name: "Wallet app", Scopes: []string{"qr:mint"}})
		require.Equal(t, []string{"qr:mint"}, app.Scopes)
		manager, _ := b.key(t, b.admin, auth.NewKey{Name: "Till manager", Scopes: []string{"keys:manage", "customers:read"}})
		_, err := b.svc.CreateKey(b.ctx, manager, auth.NewKey{Name: "Mint", Scopes: []string{"qr:mint"}})
		requireErr(t, err, auth.ErrScopeEscalation)
	})
}

func TestListKeys(t *testing.T) {
	t.Parallel()

	t.Run("PagesNewestFirstStableUnderInserts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 4 {
			b.key(t, b.admin, auth.NewKey{Name: fmt.Sprintf("k%d", i), Scopes: []string{"customers:read"}})
		}
		page1, err := b.svc.ListKeys(b.ctx, b.admin, 2, "")
		require.NoError(t, err)
		require.True(t, page1.HasMore())
		require.Equal(t, []string{"k3", "k2"}, names(page1.Items))

		b.key(t, b.admin, auth.NewKey{Name: "late", Scopes: []string{"customers:read"}})

		page2, err := b.svc.ListKeys(b.ctx, b.admin, 2, page1.NextCursor)
		require.NoError(t, err)
		require.Equal(t, []string{"k1", "k0"}, names(page2.Items))
		page3, err := b.svc.ListKeys(b.ctx, b.admin, 2, page2.NextCursor)
		require.NoError(t, err)
		require.Equal(t, []string{"bootstrap"}, names(page3.Items))
		require.False(t, page3.HasMore())
		require.Empty(t, page3.NextCursor)

		all, err := b.svc.ListKeys(b.ctx, b.admin, 50, "")
		require.NoError(t, err)
		require.Equal(t, []string{"late", "k3", "k2", "k1", "k0", "bootstrap"}, names(all.Items))
	})

	t.Run("RefusesATamperedCursor", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"customers:read"}})
		page, err := b.svc.ListKeys(b.ctx, b.admin, 1, "")
		require.NoError(t, err)
		raw, err := base64.RawURLEncoding.DecodeString(page.NextCursor)
		require.NoError(t, err)
		tampered := []byte(string(raw))
		tampered[10] ^= 1
		for _, cursor := range []string{
			"garbage!", "Zm9v",
			base64.RawURLEncoding.EncodeToString(tampered),
			page.NextCursor[:len(page.NextCursor)-2],
		} {
			_, err := b.svc.ListKeys(b.ctx, b.admin, 1, cursor)
			requireErr(t, err, auth.ErrInvalid)
			require.Equal(t, "auth.ListKeys.cursor", fieldOf(t, err))
		}
	})

	t.Run("RefusesAnotherIntegrationsCursor", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"customers:read"}})
		page, err := b.svc.ListKeys(b.ctx, b.admin, 1, "")
		require.NoError(t, err)
		_, other, err := b.svc.CreateIntegration(b.ctx, b.boot.Merchant.ID, "Other POS")
		require.NoError(t, err)
		otherP, err := b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: other.Secret})
		require.NoError(t, err)
		_, err = b.svc.ListKeys(b.ctx, otherP, 1, page.NextCursor)
		requireErr(t, err, auth.ErrInvalid)
	})

	t.Run("RefusesALimitOutOfRange", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, limit := range []int{-1, 0} {
			_, err := b.svc.ListKeys(b.ctx, b.admin, limit, "")
			requireErr(t, err, auth.ErrInvalid)
			require.Equal(t, "auth.ListKeys.limit", fieldOf(t, err))
		}
	})

	t.Run("ShowsOnlyTheCallersIntegration", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, other, err := b.svc.CreateIntegration(b.ctx, b.boot.Merchant.ID, "Other POS")
		require.NoError(t, err)
		otherP, err := b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: other.Secret})
		require.NoError(t, err)
		b.key(t, otherP, auth.NewKey{Name: "theirs", Scopes: []string{"customers:read"}})
		mine, err := b.svc.ListKeys(b.ctx, b.admin, 50, "")
		require.NoError(t, err)
		require.Equal(t, []string{"bootstrap"}, names(mine.Items))
	})
}

func names(keys []auth.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()

	t.Run("RevokeStopsTheKeyAndItsTokensAtOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, issued := b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"tokens:issue", "customers:read"}})
		tok := b.token(t, p, nil)
		revoked, err := b.svc.RevokeKey(b.ctx, b.admin, issued.Key.ID)
		require.NoError(t, err)
		require.Equal(t, auth.KeyRevoked, revoked.Status)
		require.NotNil(t, revoked.RevokedAt)

		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
		requireErr(t, err, auth.ErrKeyRevoked)
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		requireErr(t, err, auth.ErrKeyRevoked)
		st, err := b.svc.ValidateToken(b.ctx, tok.Token)
		require.NoError(t, err)
		require.False(t, st.Valid)
		require.Equal(t, auth.ReasonRevoked, st.Reason)
		require.Equal(t, issued.Key.ID, st.Claims.KeyID)

		again, err := b.svc.RevokeKey(b.ctx, b.admin, issued.Key.ID)
		require.NoError(t, err)
		require.Equal(t, revoked.RevokedAt, again.RevokedAt, "revoking again changes nothing")
	})

	t.Run("RegenerateReissuesTheSameKeyWithANewSecret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		_, issued := b.key(t, b.admin, auth.NewKey{Name: "fleet", Scopes: []string{"customers:read", "payments:write"}, ExpiresAt: &expires})
		out, err := b.svc.RegenerateKey(b.ctx, b.admin, issued.Key.ID)
		require.NoError(t, err)
		require.Equal(t, auth.KeyRevoked, out.Revoked.Status)
		n := out.Issued.Key
		require.NotEqual(t, issued.Key.ID, n.ID)
		require.NotEqual(t, issued.Secret, out.Issued.Secret)
		require.Equal(t, "fleet", n.Name)
		require.Equal(t, issued.Key.Scopes, n.Scopes)
		require.Equal(t, issued.Key.Role, n.Role)
		require.Equal(t, expires, n.ExpiresAt.UTC())
		require.Equal(t, issued.Key.ID, n.ReplacesKeyID)

		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
		requireErr(t, err, auth.ErrKeyRevoked)
		p, err := b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: out.Issued.Secret})
		require.NoError(t, err)
		require.Equal(t, n.ID, p.KeyID)
	})

	t.Run("RegenerateRefusesAKeyWiderThanTheCaller", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		manager, _ := b.key(t, b.admin, auth.NewKey{Name: "manager", Scopes: []string{"keys:manage"}})
		_, err := b.svc.RegenerateKey(b.ctx, manager, b.admin.KeyID)
		requireErr(t, err, auth.ErrScopeEscalation)
		require.Empty(t, fieldOf(t, err))
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: b.boot.Key.Secret})
		require.NoError(t, err, "a refused regeneration revokes nothing")
	})

	t.Run("DeleteRemovesTheRecordAndKillsItsTokens", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, issued := b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"tokens:issue"}})
		tok := b.token(t, p, nil)
		require.NoError(t, b.svc.DeleteKey(b.ctx, b.admin, issued.Key.ID))
		_, err := b.svc.GetKey(b.ctx, b.admin, issued.Key.ID)
		requireErr(t, err, auth.ErrNotFound)
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
		requireErr(t, err, auth.ErrUnauthenticated)
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		requireErr(t, err, auth.ErrKeyRevoked)
		err = b.svc.DeleteKey(b.ctx, b.admin, issued.Key.ID)
		requireErr(t, err, auth.ErrNotFound)
	})

	t.Run("AnotherIntegrationsKeyIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, sameMerchant, err := b.svc.CreateIntegration(b.ctx, b.boot.Merchant.ID, "Other POS")
		require.NoError(t, err)
		otherMerchant, err := b.svc.Bootstrap(b.ctx, "Other Merchant", "Their POS")
		require.NoError(t, err)
		for _, other := range []auth.IssuedKey{sameMerchant, otherMerchant.Key} {
			id := other.Key.ID
			_, err = b.svc.RevokeKey(b.ctx, b.admin, id)
			requireErr(t, err, auth.ErrNotFound)
			_, err = b.svc.RegenerateKey(b.ctx, b.admin, id)
			requireErr(t, err, auth.ErrNotFound)
			requireErr(t, b.svc.DeleteKey(b.ctx, b.admin, id), auth.ErrNotFound)
			_, err = b.svc.GetKey(b.ctx, b.admin, id)
			requireErr(t, err, auth.ErrNotFound)
			_, err = b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: other.Secret})
			require.NoError(t, err, "the other integration's key is untouched")
		}
	})

	t.Run("AnExpiredKeyIsRefusedAsRevoked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		soon := time.Now().Add(time.Hour)
		p, issued := b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"tokens:issue"}, ExpiresAt: &soon})
		tok := b.token(t, p, nil)
		later := newService(t, b.pool, serviceOpts{now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
		_, err := later.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
		requireErr(t, err, auth.ErrKeyRevoked)
		_, err = later.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		require.Error(t, err, "the token has expired too by then")
	})
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("RefusesMissingUnknownAndDoubleCredentials", func(t *testing.T) {
		t.Parallel()
		for _, cred := range []auth.Credentials{
			{},
			{APIKey: "fk_test_nope"},
			{APIKey: "fk_live_" + b.boot.Key.Secret[8:]},
			{APIKey: b.boot.Key.Secret, BearerToken: "x.y.z"},
		} {
			_, err := b.svc.Authenticate(b.ctx, cred)
			requireErr(t, err, auth.ErrUnauthenticated)
		}
	})

	t.Run("RecordsLastUseAtMostOnceAMinute", func(t *testing.T) {
		t.Parallel()
		b := setup(t) // it advances the clock
		_, issued := b.key(t, b.admin, auth.NewKey{Name: "k", Scopes: []string{"customers:read"}})
		// The write goes out in the background: wait for it to land.
		lastUsed := func() time.Time {
			var at time.Time
			require.Eventually(t, func() bool {
				k, err := b.svc.GetKey(b.ctx, b.admin, issued.Key.ID)
				require.NoError(t, err)
				if k.LastUsedAt != nil {
					at = *k.LastUsedAt
				}
				return k.LastUsedAt != nil
			}, 5*time.Second, 10*time.Millisecond)
			return at
		}
		auth1 := func() {
			_, err := b.svc.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
			require.NoError(t, err)
		}
		auth1()
		first := lastUsed()
		auth1()
		auth1()
		require.Equal(t, first, lastUsed(), "no write within the minute")
		b.clock.Advance(2 * time.Minute)
		// The first write's goroutine may still be finishing (a key has one
		// write in flight at most, and a use meanwhile is not written): the
		// till keeps using its key, as tills do.
		require.Eventually(t, func() bool { auth1(); return lastUsed().After(first) }, 5*time.Second, 10*time.Millisecond,
			"a minute later the use is recorded again")
		require.WithinDuration(t, b.clock.Now(), lastUsed(), 5*time.Second)
	})
}

func TestTerminalTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pos, posKey := b.key(t, b.admin, auth.NewKey{Name: "pos", Scopes: []string{"tokens:issue", "customers:read", "payments:write"}})

	t.Run("CarriesTheContractClaimsAndLivesExactly600Seconds", func(t *testing.T) {
		t.Parallel()
		tok, err := b.svc.IssueToken(b.ctx, pos, "till-04", []string{"payments:write"})
		require.NoError(t, err)
		header, claims := decodeJWT(t, tok.Token)
		require.Equal(t, "ES256", header["alg"])
		require.Equal(t, tok.SigningKID, header["kid"])
		require.Equal(t, "JWT", header["typ"])
		cfg := config.Defaults()
		require.Equal(t, cfg.JWTIssuer, claims["iss"])
		require.Equal(t, cfg.JWTAudience, claims["aud"])
		require.Equal(t, posKey.Key.ID, claims["sub"])
		require.Equal(t, b.boot.Merchant.ID, claims["merchant"])
		require.Equal(t, b.boot.Integration.ID, claims["integration"])
		require.Equal(t, "till-04", claims["terminal"])
		require.Equal(t, "payments:write", claims["scope"])
		require.NotEmpty(t, claims["jti"])
		require.InDelta(t, 600, claims["exp"].(float64)-claims["iat"].(float64), 0)
		require.Equal(t, 600*time.Second, tok.ExpiresAt.Sub(tok.IssuedAt))
	})

	t.Run("DefaultsToEveryScopeOfTheKey", func(t *testing.T) {
		t.Parallel()
		tok := b.token(t, pos, nil)
		require.Equal(t, pos.Scopes, tok.Scopes)
	})

	t.Run("RefusesScopesTheKeyDoesNotHold", func(t *testing.T) {
		t.Parallel()
		_, err := b.svc.IssueToken(b.ctx, pos, "till-04", []string{"customers:read", "grants:clawback"})
		requireErr(t, err, auth.ErrScopeEscalation)
	})

	t.Run("NeverCarriesQrMint", func(t *testing.T) {
		t.Parallel()
		app, _ := b.key(t, b.admin, auth.NewKey{Name: "Wallet app", Scopes: []string{"tokens:issue", "qr:mint"}})
		_, err := b.svc.IssueToken(b.ctx, app, "kiosk", []string{"qr:mint"})
		requireErr(t, err, auth.ErrInvalid)
		require.Equal(t, "auth.IssueToken.scopes[0]", fieldOf(t, err))
		tok := b.token(t, app, nil)
		require.Equal(t, []string{"tokens:issue"}, tok.Scopes, "the key's scopes minus qr:mint")
	})

	t.Run("RefusesBadTerminalIDs", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{"", strings.Repeat("x", 129), "till\n04"} {
			_, err := b.svc.IssueToken(b.ctx, pos, id, nil)
			requireErr(t, err, auth.ErrInvalid)
			require.Equal(t, "auth.IssueToken.terminalID", fieldOf(t, err))
		}
	})

	t.Run("CannotBeMintedWithAToken", func(t *testing.T) {
		t.Parallel()
		p, err := b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: b.token(t, pos, nil).Token})
		require.NoError(t, err)
		_, err = b.svc.IssueToken(b.ctx, p, "till-05", nil)
		requireErr(t, err, auth.ErrForbidden)
	})

	t.Run("AuthenticatesAsTheTerminalWithRoleIntegration", func(t *testing.T) {
		t.Parallel()
		tok := b.token(t, b.admin, []string{"customers:read"})
		p, err := b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		require.NoError(t, err)
		require.Equal(t, auth.KindTerminalJWT, p.Kind)
		require.Equal(t, "till-01", p.TerminalID)
		require.Equal(t, b.admin.KeyID, p.KeyID)
		require.Equal(t, []string{"customers:read"}, p.Scopes)
		require.Equal(t, auth.RoleIntegration, p.Role, "terminals never act as operators")
		require.Equal(t, tok.ExpiresAt, p.TokenExpiresAt)
	})

	t.Run("ValidatesAFreshToken", func(t *testing.T) {
		t.Parallel()
		tok := b.token(t, pos, nil)
		st, err := b.svc.ValidateToken(b.ctx, tok.Token)
		require.NoError(t, err)
		require.True(t, st.Valid)
		require.Empty(t, st.Reason)
		require.InDelta(t, 600, st.RemainingTTL.Seconds(), 3)
		require.Equal(t, "till-01", st.Claims.TerminalID)
	})

	t.Run("ReportsAnExpiredToken", func(t *testing.T) {
		t.Parallel()
		past := newService(t, b.pool, serviceOpts{now: func() time.Time { return time.Now().Add(-11 * time.Minute) }})
		tok, err := past.IssueToken(b.ctx, pos, "till-01", nil)
		require.NoError(t, err)
		st, err := b.svc.ValidateToken(b.ctx, tok.Token)
		require.NoError(t, err)
		require.False(t, st.Valid)
		require.Equal(t, auth.ReasonExpired, st.Reason)
		require.Zero(t, st.RemainingTTL)
		require.Equal(t, tok.ExpiresAt, st.Claims.ExpiresAt)
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		requireErr(t, err, auth.ErrTokenExpired)
	})

	t.Run("RefusesForgedTokens", func(t *testing.T) {
		t.Parallel()
		tok := b.token(t, pos, nil)
		header, claims := decodeJWT(t, tok.Token)
		parts := strings.Split(tok.Token, ".")
		foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		claims["scope"] = "customers:read payments:write grants:clawback"

		cases := map[string]struct {
			token  string
			reason auth.TokenReason
		}{
			"AlgNone":         {unsignedJWT(t, map[string]any{"alg": "none", "kid": header["kid"], "typ": "JWT"}, claims), auth.ReasonBadSignature},
			"ForeignKey":      {signJWT(t, foreign, header["kid"].(string), claims), auth.ReasonBadSignature},
			"UnknownKid":      {signJWT(t, foreign, "unknown-kid", claims), auth.ReasonBadSignature},
			"HS256WithPublic": {hmacJWT(t, header["kid"].(string), claims), auth.ReasonBadSignature},
			"AlteredPayload":  {parts[0] + "." + segment(t, claims) + "." + parts[2], auth.ReasonBadSignature},
			"NotAJWT":         {"hello", auth.ReasonMalformed},
			"GarbageHeader":   {"!!!." + parts[1] + "." + parts[2], auth.ReasonMalformed},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				st, err := b.svc.ValidateToken(b.ctx, c.token)
				require.NoError(t, err)
				require.False(t, st.Valid)
				require.Equal(t, c.reason, st.Reason)
				require.Nil(t, st.Claims, "nothing of an unverified token is reported")
				_, err = b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: c.token})
				requireErr(t, err, auth.ErrUnauthenticated)
			})
		}
	})

	t.Run("RefusesATokenForAnotherAudience", func(t *testing.T) {
		t.Parallel()
		other := newService(t, b.pool, serviceOpts{audience: "someone-else"})
		tok, err := other.IssueToken(b.ctx, pos, "till-01", nil)
		require.NoError(t, err)
		st, err := b.svc.ValidateToken(b.ctx, tok.Token)
		require.NoError(t, err)
		require.Equal(t, auth.ReasonMalformed, st.Reason)
		_, err = b.svc.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
		requireErr(t, err, auth.ErrUnauthenticated)
	})
}

func TestSigningKeys(t *testing.T) {
	t.Parallel()

	t.Run("ReplicasStartingTogetherCreateOneKey", func(t *testing.T) {
		t.Parallel()
		pool := testdb.New(t)
		var wg sync.WaitGroup
		kids := make(chan string, 4)
		for range 4 {
			svc := newService(t, pool, serviceOpts{})
			wg.Go(func() {
				kid, err := svc.EnsureSigningKey(context.Background())
				require.NoError(t, err)
				kids <- kid
			})
		}
		wg.Wait()
		close(kids)
		seen := map[string]bool{}
		for kid := range kids {
			seen[kid] = true
		}
		require.Len(t, seen, 1)
	})

	t.Run("RotationKeepsEarlierTokensValidAndPublishesBothKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := b.token(t, b.admin, nil)
		newKid, err := b.svc.RotateSigningKey(b.ctx)
		require.NoError(t, err)
		require.NotEqual(t, before.SigningKID, newKid)
		after := b.token(t, b.admin, nil)
		require.Equal(t, newKid, after.SigningKID)

		for _, tok := range []auth.Token{before, after} {
			st, err := b.svc.ValidateToken(b.ctx, tok.Token)
			require.NoError(t, err)
			require.True(t, st.Valid)
		}
		jwks, err := b.svc.JWKS(b.ctx)
		require.NoError(t, err)
		require.Len(t, jwks, 2)
		require.Equal(t, newKid, jwks[0].Kid, "newest first")
		require.Equal(t, before.SigningKID, jwks[1].Kid)
		for _, k := range jwks {
			require.Equal(t, "EC", k.Kty)
			require.Equal(t, "P-256", k.Crv)
			require.Equal(t, "ES256", k.Alg)
			require.Equal(t, "sig", k.Use)
		}
	})

	t.Run("ARetiredKeyLeavesTheJWKSOnceItsTokensHaveExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		old := b.token(t, b.admin, nil)
		_, err := b.svc.RotateSigningKey(b.ctx)
		require.NoError(t, err)
		b.clock.Advance(auth.RetiredKeyGrace + time.Minute)
		jwks, err := b.svc.JWKS(b.ctx)
		require.NoError(t, err)
		require.Len(t, jwks, 1)
		require.NotEqual(t, old.SigningKID, jwks[0].Kid)
	})

	t.Run("JWKSOfAFreshDatabaseHasTheCurrentKey", func(t *testing.T) {
		t.Parallel()
		svc := newService(t, testdb.New(t), serviceOpts{})
		jwks, err := svc.JWKS(context.Background())
		require.NoError(t, err)
		require.Len(t, jwks, 1)
	})
}

func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long concurrent mix: make test runs it")
	}
	b := setup(t)
	replica := newService(t, b.pool, serviceOpts{})
	p, issued := b.key(t, b.admin, auth.NewKey{Name: "pos", Scopes: []string{"tokens:issue", "customers:read"}})

	tok := b.token(t, p, nil)
	st, err := replica.ValidateToken(b.ctx, tok.Token)
	require.NoError(t, err)
	require.True(t, st.Valid, "a token minted by one replica validates on the other")

	_, err = b.svc.RevokeKey(b.ctx, b.admin, issued.Key.ID)
	require.NoError(t, err)
	_, err = replica.Authenticate(b.ctx, auth.Credentials{BearerToken: tok.Token})
	requireErr(t, err, auth.ErrKeyRevoked)
	_, err = replica.Authenticate(b.ctx, auth.Credentials{APIKey: issued.Secret})
	requireErr(t, err, auth.ErrKeyRevoked)
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	keyOnly := auth.Access{OperationID: "createApiKey", Accepts: map[auth.Kind][]string{auth.KindAPIKey: {"keys:manage"}}}
	either := auth.Access{OperationID: "createPayment", Switchable: true, Accepts: map[auth.Kind][]string{
		auth.KindAPIKey: {"payments:write"}, auth.KindTerminalJWT: {"payments:write"},
	}}
	alwaysOn := either
	alwaysOn.Switchable = false
	sandboxOnly := either
	sandboxOnly.Unavailable = true
	clawback := auth.Access{OperationID: "clawbackGrant", Accepts: map[auth.Kind][]string{auth.KindAPIKey: {"grants:clawback"}}, RequiredRole: auth.RoleOperator}
	key := auth.Principal{Kind: auth.KindAPIKey, Role: auth.RoleIntegration, Scopes: []string{"keys:manage", "payments:write", "grants:clawback"}}
	terminal := auth.Principal{Kind: auth.KindTerminalJWT, Role: auth.RoleIntegration, Scopes: []string{"payments:write", "keys:manage"}}
	operator := key
	operator.Role = auth.RoleOperator
	disabled := operator
	disabled.DisabledOperations = []string{"createPayment"}
	narrow := auth.Principal{Kind: auth.KindTerminalJWT, Scopes: []string{"customers:read"}}

	cases := []struct {
		name   string
		p      auth.Principal
		a      auth.Access
		err    error
		inText string
	}{
		{"KeyOnKeyOperation", key, keyOnly, nil, ""},
		{"TerminalOnKeyOnlyOperation", terminal, keyOnly, auth.ErrForbidden, "does not accept a terminal token"},
		{"TerminalOnEither", terminal, either, nil, ""},
		{"MissingScopeIsNamed", narrow, either, auth.ErrForbidden, "payments:write"},
		{"RoleRequired", key, clawback, auth.ErrForbidden, "role operator"},
		{"OperatorMayClawBack", operator, clawback, nil, ""},
		{"DisabledOperation", disabled, either, auth.ErrOperationNotEnabled, "createPayment"},
		{"AnOperationThatCannotBeSwitchedOffStaysOn", disabled, alwaysOn, nil, ""},
		{"NotServedInThisEnvironment", operator, sandboxOnly, auth.ErrOperationNotEnabled, "not available in this environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := auth.Authorize(c.p, c.a)
			if c.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.err)
			require.Contains(t, err.Error(), c.inText)
		})
	}
}

func TestRequireIntegration(t *testing.T) {
	t.Parallel()
	p := auth.Principal{IntegrationID: "int_01JWRVMKVZAP2GK3N8N7HKA9F0"}
	require.NoError(t, auth.RequireIntegration(p, p.IntegrationID))
	other := auth.RequireIntegration(p, "int_01JWRVMKVZAP2GK3N8N7HKA9F1")
	missing := auth.RequireIntegration(auth.Principal{}, "int_01JWRVMKVZAP2GK3N8N7HKA9F1")
	require.ErrorIs(t, other, auth.ErrNotFound)
	require.Equal(t, missing.Error(), other.Error(), "another integration looks exactly like a missing one")
}

func TestErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	all := []error{auth.ErrUnauthenticated, auth.ErrTokenExpired, auth.ErrKeyRevoked, auth.ErrForbidden, auth.ErrOperationNotEnabled, auth.ErrNotFound, auth.ErrInvalid}
	for i, a := range all {
		for j, b := range all {
			require.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
	require.ErrorIs(t, auth.ErrScopeEscalation, auth.ErrForbidden)
}

// JWT helpers for forging tokens.

func decodeJWT(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst))
	}
	return header, claims
}

func segment(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func unsignedJWT(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	return segment(t, header) + "." + segment(t, claims) + "."
}

func signJWT(t *testing.T, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	h := jws.NewHeaders()
	require.NoError(t, h.Set(jws.KeyIDKey, kid))
	signed, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(h)))
	require.NoError(t, err)
	return string(signed)
}

// hmacJWT is the classic confusion attack: HS256 keyed with something public.
func hmacJWT(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	signingInput := segment(t, map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + segment(t, claims)
	mac := hmac.New(sha256.New, []byte(kid))
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
