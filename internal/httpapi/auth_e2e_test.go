package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/auth"
)

const apiVersion = "2026-06-01"

// authEnv is a running server with one bootstrapped tenant, and the auth
// domain on the same database for what HTTP cannot do (a second integration,
// a clock in the past, signing-key rotation).
type authEnv struct {
	ctx   context.Context
	s     *apptest.Server
	svc   *auth.Service
	boot  auth.Bootstrapped
	admin string // the bootstrap key: every scope, role operator
}

func newAuthEnv(t *testing.T, opts ...apptest.Option) *authEnv {
	t.Helper()
	s := apptest.Start(t, opts...)
	return authEnvOn(t, s)
}

func authEnvOn(t *testing.T, s *apptest.Server) *authEnv {
	t.Helper()
	ctx := context.Background()
	svc := domainService(t, s, s.Clock.Now)
	boot, err := svc.Bootstrap(ctx, "Test Merchant", "Test POS")
	require.NoError(t, err)
	return &authEnv{ctx: ctx, s: s, svc: svc, boot: boot, admin: boot.Key.Secret}
}

func domainService(t *testing.T, s *apptest.Server, now func() time.Time) *auth.Service {
	t.Helper()
	scopes, err := auth.ScopesOf(s.App.Spec)
	require.NoError(t, err)
	svc, err := auth.New(s.Pool, auth.Config{
		Issuer: s.App.Config.JWTIssuer, Audience: s.App.Config.JWTAudience,
		Environment: s.App.Config.Env, Scopes: scopes, Now: now,
		KEK: s.App.Config.KEK, KEKPrevious: s.App.Config.KEKPrevious,
	})
	require.NoError(t, err)
	return svc
}

var (
	withKey    = apptest.WithKey
	withBearer = apptest.WithBearer
)

var idemCounter atomic.Int64

func newIdemKey() string { return fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), idemCounter.Add(1)) }

func reqMeta() client.RequestMeta { return client.RequestMeta{ApiVersion: apiVersion} }

func scopes(s ...client.Scope) []client.Scope { return s }

// apiError reads the error envelope of a failed call.
func apiError(t *testing.T, status int, body []byte) (int, client.Error) {
	t.Helper()
	var env client.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	require.False(t, bool(env.Ok))
	return status, env.Error
}

func requireCode(t *testing.T, wantStatus int, want client.ErrorCode, status int, body []byte) client.Error {
	t.Helper()
	gotStatus, e := apiError(t, status, body)
	require.Equal(t, want, e.Code, "body: %s", body)
	require.Equal(t, wantStatus, gotStatus)
	return e
}

func (e *authEnv) createKey(t *testing.T, creator, name string, sc []client.Scope, role *client.ApiKeyRole) *client.CreateApiKeyResponse {
	t.Helper()
	res, err := e.s.Client.CreateApiKeyWithResponse(e.ctx, &client.CreateApiKeyParams{IdempotencyKey: newIdemKey()},
		client.CreateApiKeyInput{Meta: reqMeta(), Data: client.CreateApiKeyInputData{Name: name, Scopes: sc, Role: role}},
		withKey(creator))
	require.NoError(t, err)
	return res
}

// newKey creates a key and returns its raw secret and id.
func (e *authEnv) newKey(t *testing.T, creator, name string, sc ...client.Scope) (secret, id string) {
	t.Helper()
	res := e.createKey(t, creator, name, sc, nil)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return *res.JSON200.Data.ApiKey, res.JSON200.Data.Key.Id
}

func (e *authEnv) mintRaw(t *testing.T, key string, sc []client.Scope) *client.CreateTerminalTokenResponse {
	t.Helper()
	data := client.CreateTerminalTokenInputData{TerminalId: "till-04"}
	if sc != nil {
		data.Scopes = &sc
	}
	res, err := e.s.Client.CreateTerminalTokenWithResponse(e.ctx, &client.CreateTerminalTokenParams{},
		client.CreateTerminalTokenInput{Meta: reqMeta(), Data: data}, withKey(key))
	require.NoError(t, err)
	return res
}

func (e *authEnv) mint(t *testing.T, key string, sc ...client.Scope) string {
	t.Helper()
	if len(sc) == 0 {
		sc = nil
	}
	res := e.mintRaw(t, key, sc)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return *res.JSON200.Data.Token
}

func (e *authEnv) capabilities(t *testing.T, editor client.RequestEditorFn) *client.GetCapabilitiesResponse {
	t.Helper()
	res, err := e.s.Client.GetCapabilitiesWithResponse(e.ctx, &client.GetCapabilitiesParams{}, editor)
	require.NoError(t, err)
	return res
}

func (e *authEnv) validate(t *testing.T, token string) *client.ValidateTerminalTokenResponse {
	t.Helper()
	res, err := e.s.Client.ValidateTerminalTokenWithResponse(e.ctx, &client.ValidateTerminalTokenParams{}, withBearer(token))
	require.NoError(t, err)
	return res
}

func (e *authEnv) revoke(t *testing.T, by, keyID string) *client.RevokeApiKeyResponse {
	t.Helper()
	res, err := e.s.Client.RevokeApiKeyWithResponse(e.ctx, keyID, &client.RevokeApiKeyParams{IdempotencyKey: newIdemKey()},
		client.RevokeApiKeyInput{Meta: reqMeta()}, withKey(by))
	require.NoError(t, err)
	return res
}

func TestAuthKeyLifecycleEndToEnd(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	c := e.s.Client

	// Provision.
	idem := newIdemKey()
	body := client.CreateApiKeyInput{Meta: reqMeta(), Data: client.CreateApiKeyInputData{
		Name: "Till fleet", Scopes: scopes(client.ScopeTokensIssue, client.ScopeCustomersRead, client.ScopePaymentsWrite),
	}}
	created, err := c.CreateApiKeyWithResponse(e.ctx, &client.CreateApiKeyParams{IdempotencyKey: idem}, body, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	key := created.JSON200.Data
	require.NotNil(t, key.ApiKey)
	require.False(t, key.SecretRedacted)
	secret := *key.ApiKey
	require.True(t, strings.HasPrefix(secret, key.Key.Prefix))
	require.Equal(t, client.ApiKeyRoleIntegration, key.Key.Role)
	require.Equal(t, client.ApiKeyStatusActive, key.Key.Status)

	t.Run("AReplayShowsTheSameKeyWithoutItsSecret", func(t *testing.T) {
		replay, err := c.CreateApiKeyWithResponse(e.ctx, &client.CreateApiKeyParams{IdempotencyKey: idem}, body, withKey(e.admin))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, replay.StatusCode())
		require.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))
		require.True(t, replay.JSON200.Meta.IdempotentReplay)
		require.Equal(t, key.Key, replay.JSON200.Data.Key)
		require.Nil(t, replay.JSON200.Data.ApiKey)
		require.True(t, replay.JSON200.Data.SecretRedacted)
		require.NotContains(t, string(replay.Body), secret)
	})

	// List: metadata only.
	list, err := c.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode())
	require.Len(t, list.JSON200.Data.Items, 2)
	require.Equal(t, key.Key.Id, list.JSON200.Data.Items[0].Id, "newest first")
	require.NotContains(t, string(list.Body), secret)
	require.NotContains(t, string(list.Body), e.admin)
	require.Nil(t, list.JSON200.Data.NextCursor)

	// Token, validate.
	token := e.mint(t, secret, client.ScopeCustomersRead)
	v := e.validate(t, token)
	require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
	require.True(t, v.JSON200.Data.Valid)
	require.Nil(t, v.JSON200.Data.Reason)
	require.InDelta(t, 600, v.JSON200.Data.RemainingTtlSeconds, 3)
	require.Equal(t, []client.Scope{client.ScopeCustomersRead}, v.JSON200.Data.Scopes)
	require.Equal(t, key.Key.Id, *v.JSON200.Data.KeyId)
	require.Equal(t, "till-04", *v.JSON200.Data.TerminalId)
	caps := e.capabilities(t, withBearer(token))
	require.Equal(t, http.StatusOK, caps.StatusCode())

	// Revoke: the key and its token fail at once.
	rv := e.revoke(t, e.admin, key.Key.Id)
	require.Equal(t, http.StatusOK, rv.StatusCode(), "body: %s", rv.Body)
	require.Equal(t, client.ApiKeyStatusRevoked, rv.JSON200.Data.Key.Status)
	require.NotNil(t, rv.JSON200.Data.Key.RevokedAt)

	v = e.validate(t, token)
	require.Equal(t, http.StatusOK, v.StatusCode())
	require.False(t, v.JSON200.Data.Valid)
	require.Equal(t, client.TokenInvalidReasonRevoked, *v.JSON200.Data.Reason)
	require.Zero(t, v.JSON200.Data.RemainingTtlSeconds)
	caps = e.capabilities(t, withBearer(token))
	requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)
	caps = e.capabilities(t, withKey(secret))
	requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)

	// Regenerate: same name and scopes, a new secret that works.
	rg, err := c.RegenerateApiKeyWithResponse(e.ctx, key.Key.Id, &client.RegenerateApiKeyParams{IdempotencyKey: newIdemKey()},
		client.RegenerateApiKeyInput{Meta: reqMeta()}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rg.StatusCode(), "body: %s", rg.Body)
	fresh := rg.JSON200.Data
	require.NotEqual(t, key.Key.Id, fresh.Key.Id)
	require.Equal(t, key.Key.Name, fresh.Key.Name)
	require.Equal(t, key.Key.Scopes, fresh.Key.Scopes)
	require.NotNil(t, fresh.ApiKey)
	require.NotEqual(t, secret, *fresh.ApiKey)
	caps = e.capabilities(t, withKey(*fresh.ApiKey))
	require.Equal(t, http.StatusOK, caps.StatusCode())
	freshToken := e.mint(t, *fresh.ApiKey)

	// Delete: the record is gone, its key unknown, its tokens revoked.
	del, err := c.DeleteApiKeyWithResponse(e.ctx, fresh.Key.Id, &client.DeleteApiKeyParams{IdempotencyKey: newIdemKey()},
		client.DeleteApiKeyInput{Meta: reqMeta()}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, del.StatusCode(), "body: %s", del.Body)
	require.Equal(t, fresh.Key.Id, del.JSON200.Data.Id)
	require.True(t, bool(del.JSON200.Data.Deleted))
	caps = e.capabilities(t, withKey(*fresh.ApiKey))
	requireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, caps.StatusCode(), caps.Body)
	caps = e.capabilities(t, withBearer(freshToken))
	requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)

	list, err = c.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{}, withKey(e.admin))
	require.NoError(t, err)
	var ids []string
	for _, k := range list.JSON200.Data.Items {
		ids = append(ids, k.Id)
	}
	require.Contains(t, ids, key.Key.Id, "a revoked key stays listed for audit")
	require.NotContains(t, ids, fresh.Key.Id, "a deleted key is gone")
}

func TestAuthListPagination(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	for i := range 3 {
		e.newKey(t, e.admin, fmt.Sprintf("k%d", i), client.ScopeCustomersRead)
	}
	limit := 2
	page1, err := e.s.Client.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{Limit: &limit}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, page1.StatusCode())
	require.True(t, page1.JSON200.Data.HasMore)
	require.NotNil(t, page1.JSON200.Data.NextCursor)
	page2, err := e.s.Client.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{Limit: &limit, Cursor: page1.JSON200.Data.NextCursor}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, page2.StatusCode())
	var names []string
	for _, k := range append(page1.JSON200.Data.Items, page2.JSON200.Data.Items...) {
		names = append(names, k.Name)
	}
	require.Equal(t, []string{"k2", "k1", "k0", "bootstrap"}, names)
	require.False(t, page2.JSON200.Data.HasMore)

	t.Run("ATamperedCursorIsAValidationError", func(t *testing.T) {
		tampered := strings.ToUpper(*page1.JSON200.Data.NextCursor)
		res, err := e.s.Client.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{Cursor: &tampered}, withKey(e.admin))
		require.NoError(t, err)
		ae := requireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/query/cursor", *ae.Field)
	})
}

func TestAuthScopeEscalationRefused(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	narrow, _ := e.newKey(t, e.admin, "narrow", client.ScopeKeysManage, client.ScopeCustomersRead, client.ScopeTokensIssue)

	t.Run("AKeyCannotGrantAScopeItLacks", func(t *testing.T) {
		res := e.createKey(t, narrow, "wider", scopes(client.ScopeCustomersRead, client.ScopePaymentsWrite), nil)
		ae := requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		require.Equal(t, "/data/scopes/1", *ae.Field)
		require.Equal(t, []any{"payments:write"}, (*ae.Details)["missing_scopes"])
	})
	t.Run("OnlyAnOperatorGrantsOperator", func(t *testing.T) {
		op := client.ApiKeyRoleOperator
		res := e.createKey(t, narrow, "op", scopes(client.ScopeCustomersRead), &op)
		requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		res = e.createKey(t, e.admin, "op", scopes(client.ScopeCustomersRead), &op)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, client.ApiKeyRoleOperator, res.JSON200.Data.Key.Role)
	})
	t.Run("ATokenCannotCarryAScopeItsKeyLacks", func(t *testing.T) {
		res := e.mintRaw(t, narrow, scopes(client.ScopePaymentsWrite))
		requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
	t.Run("ANarrowKeyCannotRegenerateAWiderOne", func(t *testing.T) {
		res, err := e.s.Client.RegenerateApiKeyWithResponse(e.ctx, e.boot.Key.Key.ID, &client.RegenerateApiKeyParams{IdempotencyKey: newIdemKey()},
			client.RegenerateApiKeyInput{Meta: reqMeta()}, withKey(narrow))
		require.NoError(t, err)
		requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
}

func TestAuthTerminalTokenRefusedOnKeyManagement(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	token := e.mint(t, e.admin)
	c := e.s.Client
	keyID := e.boot.Key.Key.ID
	calls := map[string]func() (int, []byte){
		"createApiKey": func() (int, []byte) {
			r, err := c.CreateApiKeyWithResponse(e.ctx, &client.CreateApiKeyParams{IdempotencyKey: newIdemKey()},
				client.CreateApiKeyInput{Meta: reqMeta(), Data: client.CreateApiKeyInputData{Name: "x", Scopes: scopes(client.ScopeCustomersRead)}}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"listApiKeys": func() (int, []byte) {
			r, err := c.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"revokeApiKey": func() (int, []byte) {
			r, err := c.RevokeApiKeyWithResponse(e.ctx, keyID, &client.RevokeApiKeyParams{IdempotencyKey: newIdemKey()}, client.RevokeApiKeyInput{Meta: reqMeta()}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"regenerateApiKey": func() (int, []byte) {
			r, err := c.RegenerateApiKeyWithResponse(e.ctx, keyID, &client.RegenerateApiKeyParams{IdempotencyKey: newIdemKey()}, client.RegenerateApiKeyInput{Meta: reqMeta()}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"deleteApiKey": func() (int, []byte) {
			r, err := c.DeleteApiKeyWithResponse(e.ctx, keyID, &client.DeleteApiKeyParams{IdempotencyKey: newIdemKey()}, client.DeleteApiKeyInput{Meta: reqMeta()}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"createWebhookEndpoint": func() (int, []byte) {
			r, err := c.CreateWebhookEndpointWithResponse(e.ctx, &client.CreateWebhookEndpointParams{IdempotencyKey: newIdemKey()},
				client.CreateWebhookEndpointInput{Meta: reqMeta(), Data: client.CreateWebhookEndpointInputData{
					Url: "http://127.0.0.1:9/hooks", EventTypes: []client.EventType{client.EventTypePaymentCaptured},
				}}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"listWebhookEndpoints": func() (int, []byte) {
			r, err := c.ListWebhookEndpointsWithResponse(e.ctx, &client.ListWebhookEndpointsParams{}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
		"createTerminalToken": func() (int, []byte) {
			r, err := c.CreateTerminalTokenWithResponse(e.ctx, &client.CreateTerminalTokenParams{},
				client.CreateTerminalTokenInput{Meta: reqMeta(), Data: client.CreateTerminalTokenInputData{TerminalId: "t"}}, withBearer(token))
			require.NoError(t, err)
			return r.StatusCode(), r.Body
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			status, body := call()
			ae := requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, status, body)
			require.Contains(t, ae.Message, "terminal token")
		})
	}
	list, err := c.ListApiKeysWithResponse(e.ctx, &client.ListApiKeysParams{}, withKey(e.admin))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data.Items, 1, "nothing was created, revoked or deleted")
	require.Equal(t, client.ApiKeyStatusActive, list.JSON200.Data.Items[0].Status)
	hooks, err := c.ListWebhookEndpointsWithResponse(e.ctx, &client.ListWebhookEndpointsParams{}, withKey(e.admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, hooks.StatusCode(), "body: %s", hooks.Body)
	require.Empty(t, hooks.JSON200.Data.Items, "no webhook endpoint was created")
}

func TestAuthForgedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	token := e.mint(t, e.admin, client.ScopeCustomersRead)
	header, claims := jwtParts(t, token)
	claims["scope"] = "customers:read payments:write"
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	forged := map[string]string{
		"AlgNone":             b64JSON(t, map[string]any{"alg": "none", "typ": "JWT", "kid": header["kid"]}) + "." + b64JSON(t, claims) + ".",
		"SignedByAForeignKey": esSign(t, foreign, header["kid"].(string), claims),
		"UnknownKid":          esSign(t, foreign, "not-our-key", claims),
		"NotAJWT":             "definitely-not-a-jwt",
	}
	for name, tok := range forged {
		t.Run(name, func(t *testing.T) {
			caps := e.capabilities(t, withBearer(tok))
			requireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, caps.StatusCode(), caps.Body)
			v := e.validate(t, tok)
			require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
			require.False(t, v.JSON200.Data.Valid)
			want := client.TokenInvalidReasonBadSignature
			if name == "NotAJWT" {
				want = client.TokenInvalidReasonMalformed
			}
			require.Equal(t, want, *v.JSON200.Data.Reason)
			require.Nil(t, v.JSON200.Data.ExpiresAt)
			require.Nil(t, v.JSON200.Data.KeyId)
			require.Empty(t, v.JSON200.Data.Scopes)
		})
	}

	t.Run("AnExpiredTokenIsTokenExpired", func(t *testing.T) {
		past := domainService(t, e.s, func() time.Time { return time.Now().Add(-11 * time.Minute) })
		p, err := past.Authenticate(e.ctx, auth.Credentials{APIKey: e.admin})
		require.NoError(t, err)
		old, err := past.IssueToken(e.ctx, p, "till-09", []string{"customers:read"})
		require.NoError(t, err)
		caps := e.capabilities(t, withBearer(old.Token))
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeTokenExpired, caps.StatusCode(), caps.Body)
		v := e.validate(t, old.Token)
		require.Equal(t, http.StatusOK, v.StatusCode())
		require.False(t, v.JSON200.Data.Valid)
		require.Equal(t, client.TokenInvalidReasonExpired, *v.JSON200.Data.Reason)
		require.Zero(t, v.JSON200.Data.RemainingTtlSeconds)
		require.WithinDuration(t, old.ExpiresAt, *v.JSON200.Data.ExpiresAt, 0)
		require.Equal(t, "till-09", *v.JSON200.Data.TerminalId)
	})

	t.Run("ValidateRefusesAnAPIKeyAndAMissingToken", func(t *testing.T) {
		res, err := e.s.Client.ValidateTerminalTokenWithResponse(e.ctx, &client.ValidateTerminalTokenParams{}, withKey(e.admin))
		require.NoError(t, err)
		requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		res, err = e.s.Client.ValidateTerminalTokenWithResponse(e.ctx, &client.ValidateTerminalTokenParams{})
		require.NoError(t, err)
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, res.StatusCode(), res.Body)
	})

	t.Run("TheJWKSVerifiesARealTokenOffline", func(t *testing.T) {
		res, err := e.s.Client.GetJwksWithResponse(e.ctx, &client.GetJwksParams{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		set, err := jwk.Parse(res.Body)
		require.NoError(t, err)
		_, err = jws.Verify([]byte(token), jws.WithKeySet(set))
		require.NoError(t, err)
		_, err = jws.Verify([]byte(forged["SignedByAForeignKey"]), jws.WithKeySet(set))
		require.Error(t, err)
	})
}

func TestAuthIntegrationPathGuard(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	other, _, err := e.svc.CreateIntegration(e.ctx, e.boot.Merchant.ID, "Other POS")
	require.NoError(t, err)
	list := func(integrationID string) *client.ListTransactionsResponse {
		res, err := e.s.Client.ListTransactionsWithResponse(e.ctx, integrationID, &client.ListTransactionsParams{}, withKey(e.admin))
		require.NoError(t, err)
		return res
	}
	own := list(e.boot.Integration.ID)
	require.Equal(t, http.StatusOK, own.StatusCode())
	theirs := list(other.ID)
	missing := list("int_01JWRVMKVZAP2GK3N8N7HKA9F0")
	a := requireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, theirs.StatusCode(), theirs.Body)
	b := requireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, missing.StatusCode(), missing.Body)
	require.Equal(t, strings.Replace(b.Message, "int_01JWRVMKVZAP2GK3N8N7HKA9F0", other.ID, 1), a.Message,
		"another integration looks exactly like a missing one")
}

func TestAuthCapabilities(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	narrow, _ := e.newKey(t, e.admin, "narrow", client.ScopeCustomersRead, client.ScopeTokensIssue)

	enabled := func(t *testing.T, editor client.RequestEditorFn) (client.CapabilitiesData, map[string]bool) {
		t.Helper()
		res := e.capabilities(t, editor)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		out := map[string]bool{}
		for _, op := range res.JSON200.Data.Operations {
			out[op.OperationId] = op.Enabled
		}
		return res.JSON200.Data, out
	}

	adminData, admin := enabled(t, withKey(e.admin))
	narrowData, narrowOps := enabled(t, withKey(narrow))
	_, terminal := enabled(t, withBearer(e.mint(t, narrow, client.ScopeCustomersRead)))

	t.Run("ListsEveryOperationInDocumentOrder", func(t *testing.T) {
		require.Len(t, adminData.Operations, len(e.s.App.Spec.Operations()))
		require.Equal(t, "getHealth", adminData.Operations[0].OperationId)
		idx := slices.IndexFunc(adminData.Operations, func(o client.CapabilitiesOperation) bool { return o.OperationId == "createApiKey" })
		require.Equal(t, []client.Scope{client.ScopeKeysManage}, adminData.Operations[idx].RequiredScopes)
		require.Equal(t, []client.CredentialKind{client.CredentialKindApiKey}, adminData.Operations[idx].CredentialKinds)
	})
	t.Run("DiffersBetweenANarrowKeyAndAnAdminKey", func(t *testing.T) {
		require.True(t, admin["createApiKey"])
		require.True(t, admin["clawbackGrant"], "the bootstrap key is an operator")
		require.True(t, admin["createPayment"])
		require.False(t, narrowOps["createApiKey"])
		require.False(t, narrowOps["clawbackGrant"])
		require.False(t, narrowOps["createPayment"])
		require.True(t, narrowOps["identifyCustomer"])
		require.True(t, narrowOps["createTerminalToken"])
		require.False(t, narrowOps["validateTerminalToken"], "validation takes a bearer token")
		require.True(t, narrowOps["getHealth"])
		require.Equal(t, []client.Scope{client.ScopeTokensIssue, client.ScopeCustomersRead}, narrowData.Scopes, "in the document's order")
		require.Equal(t, client.ApiKeyRoleIntegration, narrowData.Credential.Role)
		require.Equal(t, client.ApiKeyRoleOperator, adminData.Credential.Role)
	})
	t.Run("ATerminalSeesWhatItsTokenAllows", func(t *testing.T) {
		require.True(t, terminal["identifyCustomer"])
		require.True(t, terminal["validateTerminalToken"])
		require.False(t, terminal["createTerminalToken"], "key-only")
		require.False(t, terminal["listApiKeys"], "key-only")
	})
	t.Run("DescribesTheCallerTheServerAndItsLimits", func(t *testing.T) {
		require.Equal(t, client.ApiVersion(apiVersion), adminData.ApiVersion)
		require.Equal(t, client.EnvironmentSandbox, adminData.Environment)
		require.Equal(t, e.boot.Merchant.ID, adminData.MerchantId)
		require.Equal(t, e.boot.Integration.ID, adminData.IntegrationId)
		require.Equal(t, client.CredentialKindApiKey, adminData.Credential.Kind)
		require.Nil(t, adminData.Credential.TerminalId)
		require.Equal(t, []client.CurrencyInfo{{Code: "EUR", Exponent: 2}, {Code: "USD", Exponent: 2}, {Code: "GBP", Exponent: 2}, {Code: "JPY", Exponent: 0}}, adminData.Currencies)
		require.Equal(t, client.CapabilitiesLimits{
			TerminalTokenTtlSeconds: 600, IdempotencyRetentionHours: 24, PageSizeDefault: 50, PageSizeMax: 200,
			AmountMaxMinor: 1_000_000_000_000, RequestBodyMaxBytes: 65536,
		}, adminData.Limits)
		require.Contains(t, adminData.CredentialTypes.Identify, client.IdentifyCredentialType("phone"))
		require.Contains(t, adminData.CredentialTypes.Payment, client.PaymentCredentialType("otp"))
		require.True(t, adminData.Features.SandboxMessages)
		require.True(t, admin["listSandboxMessages"])
	})
	t.Run("ADisabledOperationIsOffForThatIntegrationOnly", func(t *testing.T) {
		_, err := e.svc.SetDisabledOperations(e.ctx, e.boot.Merchant.ID, e.boot.Integration.ID, []string{"createTerminalToken"})
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = e.svc.SetDisabledOperations(e.ctx, e.boot.Merchant.ID, e.boot.Integration.ID, nil)
		})
		_, ops := enabled(t, withKey(e.admin))
		require.False(t, ops["createTerminalToken"])
		res := e.mintRaw(t, e.admin, nil)
		requireCode(t, http.StatusForbidden, client.ErrorCodeOperationNotEnabled, res.StatusCode(), res.Body)
	})
}

func TestAuthCapabilitiesInLive(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, apptest.Live())
	require.True(t, strings.HasPrefix(e.admin, "fk_live_"))
	res := e.capabilities(t, withKey(e.admin))
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.Equal(t, client.EnvironmentLive, res.JSON200.Data.Environment)
	require.False(t, res.JSON200.Data.Features.SandboxMessages)
	for _, op := range res.JSON200.Data.Operations {
		if op.OperationId == "listSandboxMessages" {
			require.False(t, op.Enabled)
		}
	}
}

// TestAuthErrorCodes drives every error code the auth operations document
// and a test can provoke (internal_error, service_unavailable and
// not_implemented have no honest trigger here).
func TestAuthErrorCodes(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	revokedKey, revokedID := e.newKey(t, e.admin, "revoked", client.ScopeKeysManage, client.ScopeTokensIssue)
	require.Equal(t, http.StatusOK, e.revoke(t, e.admin, revokedID).StatusCode())
	noScope, _ := e.newKey(t, e.admin, "no scope", client.ScopeCustomersRead)
	past := domainService(t, e.s, func() time.Time { return time.Now().Add(-11 * time.Minute) })
	p, err := past.Authenticate(e.ctx, auth.Credentials{APIKey: e.admin})
	require.NoError(t, err)
	expired, err := past.IssueToken(e.ctx, p, "till", nil)
	require.NoError(t, err)
	disabledInt, disabledKey, err := e.svc.CreateIntegration(e.ctx, e.boot.Merchant.ID, "Disabled POS")
	require.NoError(t, err)
	var allAuthOps []string
	for _, op := range e.s.App.Spec.Operations() {
		if slices.Contains(op.Op.Tags, "auth") {
			allAuthOps = append(allAuthOps, op.ID)
		}
	}
	require.Len(t, allAuthOps, 7)
	_, err = e.svc.SetDisabledOperations(e.ctx, e.boot.Merchant.ID, disabledInt.ID, allAuthOps)
	require.NoError(t, err)
	_, victimID := e.newKey(t, e.admin, "victim", client.ScopeCustomersRead)

	type op struct {
		id     string
		method string
		path   string
		body   string
		keyed  bool // Idempotency-Key required
	}
	ops := []op{
		{"createApiKey", http.MethodPost, "/auth/keys", `{"meta":{"api_version":"2026-06-01"},"data":{"name":"n","scopes":["customers:read"]}}`, true},
		{"listApiKeys", http.MethodGet, "/auth/keys", "", false},
		{"revokeApiKey", http.MethodPost, "/auth/keys/" + victimID + "/revoke", `{"meta":{"api_version":"2026-06-01"}}`, true},
		{"regenerateApiKey", http.MethodPost, "/auth/keys/" + victimID + "/regenerate", `{"meta":{"api_version":"2026-06-01"}}`, true},
		{"deleteApiKey", http.MethodPost, "/auth/keys/" + victimID + "/delete", `{"meta":{"api_version":"2026-06-01"}}`, true},
		{"createTerminalToken", http.MethodPost, "/auth/token", `{"meta":{"api_version":"2026-06-01"},"data":{"terminal_id":"till"}}`, false},
		{"validateTerminalToken", http.MethodGet, "/auth/token/validate", "", false},
	}

	send := func(t *testing.T, method, path, body string, header map[string]string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, e.s.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res := e.s.Do(t, req)
		buf := new(bytes.Buffer)
		_, err = buf.ReadFrom(res.Body)
		require.NoError(t, err)
		return res.StatusCode, buf.Bytes()
	}
	// credential is the usual caller of each operation.
	credential := func(o op, key string) map[string]string {
		if o.id != "validateTerminalToken" {
			return map[string]string{"X-Api-Key": key}
		}
		// Minted by the domain: the key's integration may have /auth/token off.
		p, err := e.svc.Authenticate(e.ctx, auth.Credentials{APIKey: key})
		require.NoError(t, err)
		tok, err := e.svc.IssueToken(e.ctx, p, "till", nil)
		require.NoError(t, err)
		return map[string]string{"Authorization": "Bearer " + tok.Token}
	}
	withIdem := func(h map[string]string) map[string]string {
		h["Idempotency-Key"] = newIdemKey()
		return h
	}

	for _, o := range ops {
		t.Run(o.id, func(t *testing.T) {
			spec, ok := e.s.App.Spec.ByID(o.id)
			require.True(t, ok)
			expect := func(t *testing.T, code client.ErrorCode, status int, header map[string]string, body string) {
				t.Helper()
				require.True(t, spec.MayReturn(string(code)), "%s does not document %s", o.id, code)
				got, raw := send(t, o.method, o.path, body, header)
				requireCode(t, status, code, got, raw)
			}
			t.Run("unauthenticated", func(t *testing.T) {
				expect(t, client.ErrorCodeUnauthenticated, http.StatusUnauthorized, withIdem(map[string]string{}), o.body)
			})
			if spec.MayReturn("token_expired") {
				t.Run("token_expired", func(t *testing.T) {
					expect(t, client.ErrorCodeTokenExpired, http.StatusUnauthorized, withIdem(map[string]string{"Authorization": "Bearer " + expired.Token}), o.body)
				})
			}
			if spec.MayReturn("key_revoked") {
				t.Run("key_revoked", func(t *testing.T) {
					expect(t, client.ErrorCodeKeyRevoked, http.StatusUnauthorized, withIdem(map[string]string{"X-Api-Key": revokedKey}), o.body)
				})
			}
			t.Run("forbidden", func(t *testing.T) {
				h := map[string]string{"X-Api-Key": noScope}
				if o.id == "validateTerminalToken" {
					h = map[string]string{"X-Api-Key": e.admin}
				}
				expect(t, client.ErrorCodeForbidden, http.StatusForbidden, withIdem(h), o.body)
			})
			t.Run("operation_not_enabled", func(t *testing.T) {
				expect(t, client.ErrorCodeOperationNotEnabled, http.StatusForbidden, withIdem(credential(o, disabledKey.Secret)), o.body)
			})
			t.Run("validation_failed", func(t *testing.T) {
				if o.method == http.MethodGet {
					require.True(t, spec.MayReturn("validation_failed"))
					got, raw := send(t, o.method, o.path+"?unknown=1", "", credential(o, e.admin))
					requireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, got, raw)
					return
				}
				bad := strings.Replace(o.body, `"meta"`, `"surprise":1,"meta"`, 1)
				expect(t, client.ErrorCodeValidationFailed, http.StatusBadRequest, withIdem(credential(o, e.admin)), bad)
			})
			t.Run("unsupported_api_version", func(t *testing.T) {
				if o.method == http.MethodGet {
					h := credential(o, e.admin)
					h["Feddi-Api-Version"] = "2020-01-01"
					expect(t, client.ErrorCodeUnsupportedApiVersion, http.StatusBadRequest, h, "")
					return
				}
				expect(t, client.ErrorCodeUnsupportedApiVersion, http.StatusBadRequest, withIdem(credential(o, e.admin)),
					strings.Replace(o.body, apiVersion, "2020-01-01", 1))
			})
			if o.method != http.MethodPost {
				return
			}
			if o.keyed {
				t.Run("idempotency_key_required", func(t *testing.T) {
					expect(t, client.ErrorCodeIdempotencyKeyRequired, http.StatusBadRequest, credential(o, e.admin), o.body)
				})
			}
			t.Run("idempotency_key_reused", func(t *testing.T) {
				h := withIdem(credential(o, e.admin))
				if o.id == "createApiKey" || o.id == "createTerminalToken" {
					first, raw := send(t, o.method, o.path, o.body, h)
					require.Equal(t, http.StatusOK, first, "body: %s", raw)
				} else {
					// The first use is another operation's path with the same key.
					first, raw := send(t, http.MethodPost, "/auth/keys", `{"meta":{"api_version":"2026-06-01"},"data":{"name":"n","scopes":["customers:read"]}}`, h)
					require.Equal(t, http.StatusOK, first, "body: %s", raw)
				}
				other := strings.Replace(o.body, `"meta"`, `"context":{"terminal_id":"other"},"meta"`, 1)
				expect(t, client.ErrorCodeIdempotencyKeyReused, http.StatusUnprocessableEntity, h, other)
			})
			t.Run("payload_too_large", func(t *testing.T) {
				huge := `{"meta":{"api_version":"2026-06-01"},"context":{"terminal_id":"` + strings.Repeat("x", 70<<10) + `"}}`
				expect(t, client.ErrorCodePayloadTooLarge, http.StatusRequestEntityTooLarge, withIdem(credential(o, e.admin)), huge)
			})
			t.Run("unsupported_media_type", func(t *testing.T) {
				h := withIdem(credential(o, e.admin))
				req, err := http.NewRequest(o.method, e.s.URL+o.path, strings.NewReader(o.body))
				require.NoError(t, err)
				for k, v := range h {
					req.Header.Set(k, v)
				}
				req.Header.Set("Content-Type", "text/plain")
				res := e.s.Do(t, req)
				buf := new(bytes.Buffer)
				_, err = buf.ReadFrom(res.Body)
				require.NoError(t, err)
				require.True(t, spec.MayReturn("unsupported_media_type"))
				requireCode(t, http.StatusUnsupportedMediaType, client.ErrorCodeUnsupportedMediaType, res.StatusCode, buf.Bytes())
			})
			t.Run("idempotency_in_progress", func(t *testing.T) {
				h := withIdem(credential(o, e.admin))
				tx, err := e.s.Pool.Begin(e.ctx)
				require.NoError(t, err)
				defer func() { _ = tx.Rollback(e.ctx) }()
				// Hold the key's lock as a request still running would.
				hdr := http.Header{}
				for k, v := range h {
					hdr.Set(k, v)
				}
				_, err = tx.Exec(e.ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2::text, 0))`, scopeOf(t, e.s, hdr), h["Idempotency-Key"])
				require.NoError(t, err)
				expect(t, client.ErrorCodeIdempotencyInProgress, http.StatusConflict, h, o.body)
			})
			if spec.MayReturn("not_found") {
				t.Run("not_found", func(t *testing.T) {
					missing := strings.Replace(o.path, victimID, "key_01JWR61VGMSZRJ1DM74VBFJCPD", 1)
					got, raw := send(t, o.method, missing, o.body, withIdem(credential(o, e.admin)))
					requireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, got, raw)
					theirs := strings.Replace(o.path, victimID, disabledKey.Key.ID, 1)
					got, raw = send(t, o.method, theirs, o.body, withIdem(credential(o, e.admin)))
					requireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, got, raw)
				})
			}
		})
	}
}

func TestAuthTwoReplicasShareOneDatabase(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	one := e.s
	two := apptest.StartOn(t, one.Pool)
	e2 := &authEnv{ctx: e.ctx, s: two, svc: e.svc, boot: e.boot, admin: e.admin}
	secret, id := e.newKey(t, e.admin, "pos", client.ScopeTokensIssue, client.ScopeCustomersRead)

	t.Run("ATokenMintedByOneValidatesOnTheOther", func(t *testing.T) {
		token := e.mint(t, secret)
		v := e2.validate(t, token)
		require.Equal(t, http.StatusOK, v.StatusCode())
		require.True(t, v.JSON200.Data.Valid)
		require.Equal(t, http.StatusOK, e2.capabilities(t, withBearer(token)).StatusCode())
	})

	t.Run("RotationKeepsEarlierTokensValidAndPublishesBothKeys", func(t *testing.T) {
		before := e.mint(t, secret)
		beforeKid, _ := jwtParts(t, before)
		newKid, err := e.svc.RotateSigningKey(e.ctx)
		require.NoError(t, err)
		after := e2.mint(t, secret)
		afterKid, _ := jwtParts(t, after)
		require.Equal(t, newKid, afterKid["kid"])
		require.NotEqual(t, beforeKid["kid"], afterKid["kid"])
		for _, env := range []*authEnv{e, e2} {
			for _, tok := range []string{before, after} {
				v := env.validate(t, tok)
				require.Equal(t, http.StatusOK, v.StatusCode())
				require.True(t, v.JSON200.Data.Valid)
			}
		}
		jwks, err := two.Client.GetJwksWithResponse(e.ctx, &client.GetJwksParams{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, jwks.StatusCode())
		var kids []string
		for _, k := range jwks.JSON200.Keys {
			kids = append(kids, k.Kid)
		}
		require.Contains(t, kids, beforeKid["kid"])
		require.Contains(t, kids, afterKid["kid"])
	})

	t.Run("AKeyRevokedThroughOneIsRefusedByTheOther", func(t *testing.T) {
		token := e2.mint(t, secret)
		require.Equal(t, http.StatusOK, e.revoke(t, e.admin, id).StatusCode())
		caps := e2.capabilities(t, withKey(secret))
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)
		caps = e2.capabilities(t, withBearer(token))
		requireCode(t, http.StatusUnauthorized, client.ErrorCodeKeyRevoked, caps.StatusCode(), caps.Body)
	})
}

// JWT helpers.

func jwtParts(t *testing.T, token string) (header, claims map[string]any) {
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

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func esSign(t *testing.T, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	h := jws.NewHeaders()
	require.NoError(t, h.Set(jws.KeyIDKey, kid))
	require.NoError(t, h.Set(jws.TypeKey, "JWT"))
	signed, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(h)))
	require.NoError(t, err)
	return string(signed)
}
