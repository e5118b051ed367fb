package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/httpapi"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// TestEveryOperationAnswersItsDocumentedConventionCodes provokes, for every
// operation of the document, each cross-cutting error code that its
// x-error-codes list, through the real HTTP server. Requests are built from
// the document alone (path parameters from their schemas, the first request
// example as the body, the credential its security asks for) and then
// changed in exactly one way per code. apptest validates every response
// against the document, so an operation answering a code it does not list
// fails the test too.
func TestEveryOperationAnswersItsDocumentedConventionCodes(t *testing.T) {
	t.Parallel()
	env := newConventionEnv(t)
	ops := env.ok.s.App.Spec.Operations()
	require.Len(t, ops, 44)
	for _, op := range ops {
		t.Run(op.ID, func(t *testing.T) {
			t.Parallel()
			// The request every check starts from passes every convention:
			// whatever it answers comes from the operation itself.
			t.Run("valid", func(t *testing.T) {
				a := env.ok.send(t, env.valid(t, env.ok, op))
				require.Less(t, a.status, 500, "body: %s", a.body)
				require.NotContains(t, conventionStatus, a.code, "the request built from the document is refused: %s", a.body)
			})
			for _, c := range conventionChecks {
				if !op.MayReturn(c.code) {
					continue
				}
				t.Run(c.code, func(t *testing.T) {
					if reason, ok := conventionCodesNoRequestProvokes[op.ID+" "+c.code]; ok {
						t.Skip(reason)
					}
					c.provoke(t, env, op)
				})
			}
		})
	}
}

// conventionStatus is the HTTP status of each cross-cutting code (the
// ErrorCode table of the document).
var conventionStatus = map[string]int{
	"unsupported_api_version":  http.StatusBadRequest,
	"validation_failed":        http.StatusBadRequest,
	"idempotency_key_required": http.StatusBadRequest,
	"idempotency_key_reused":   http.StatusUnprocessableEntity,
	"idempotency_in_progress":  http.StatusConflict,
	"unauthenticated":          http.StatusUnauthorized,
	"token_expired":            http.StatusUnauthorized,
	"key_revoked":              http.StatusUnauthorized,
	"forbidden":                http.StatusForbidden,
	"operation_not_enabled":    http.StatusForbidden,
	"payload_too_large":        http.StatusRequestEntityTooLarge,
	"unsupported_media_type":   http.StatusUnsupportedMediaType,
	"service_unavailable":      http.StatusServiceUnavailable,
	"internal_error":           http.StatusInternalServerError,
}

// conventionCodesNoRequestProvokes are documented (operation, code) pairs
// that no request can honestly provoke; each says why.
var conventionCodesNoRequestProvokes = map[string]string{
	"getHealth internal_error": "the health check turns every database failure into down (503) or degraded (200): " +
		"only a panic, caught by the recover middleware, would answer internal_error",
	"getOpenapi internal_error": "the document is served from memory, with nothing to break: " +
		"only a panic, caught by the recover middleware, would answer internal_error",
	"getDocs internal_error": "the reference page is built in memory from embedded bytes, with nothing to break: " +
		"only a panic, caught by the recover middleware, would answer internal_error",
}

const (
	headerAPIKey         = "X-Api-Key"
	headerAuthorization  = "Authorization"
	headerIdempotencyKey = "Idempotency-Key"
	headerAPIVersion     = "Feddi-Api-Version"
	headerContentType    = "Content-Type"
	unservedAPIVersion   = "2020-01-01"
	bodyLimitBytes       = 64 << 10 // the contract's request body limit
)

type conventionCheck struct {
	code    string
	provoke func(t *testing.T, env *conventionEnv, op *spec.Operation)
}

// conventionChecks change the valid request in one way per code.
var conventionChecks = []conventionCheck{
	{"unsupported_api_version", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		field := "/header/" + headerAPIVersion
		if r.body != nil {
			r.meta(t)["api_version"] = unservedAPIVersion
			field = "/meta/api_version"
		} else {
			r.header.Set(headerAPIVersion, unservedAPIVersion)
		}
		env.ok.send(t, r).expect(t, "unsupported_api_version", field)
	}},
	{"validation_failed", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		var field string
		switch data, ok := r.body["data"].(map[string]any); {
		case ok:
			data["unexpected_field"] = true
			field = "/data/unexpected_field"
		case r.body != nil:
			r.body["unexpected_field"] = true
			field = "/unexpected_field"
		default:
			r.query.Set("unexpected_param", "1")
			field = "/query/unexpected_param"
		}
		env.ok.send(t, r).expect(t, "validation_failed", field)
	}},
	{"idempotency_key_required", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		r.header.Del(headerIdempotencyKey)
		env.ok.send(t, r).expect(t, "idempotency_key_required", "/header/"+headerIdempotencyKey)
	}},
	{"idempotency_key_reused", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		first := env.ok.send(t, r)
		require.Less(t, first.status, 500, "a 5xx stores nothing; body: %s", first.body)
		r.meta(t)["client_request_id"] = "a different request"
		env.ok.send(t, r).expect(t, "idempotency_key_reused", "/header/"+headerIdempotencyKey)
	}},
	{"idempotency_in_progress", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		key := r.header.Get(headerIdempotencyKey)
		require.NotEmpty(t, key)
		// Hold the key's lock (db/queries/idempotency_keys.sql) in a
		// transaction of our own, as a first request still running would.
		// A transaction lock, not a session one: behind PgBouncer in
		// transaction mode (make test-pgbouncer) a session lock would stay
		// on a server connection the service's own requests then get.
		ctx := context.Background()
		conn, err := pgx.ConnectConfig(ctx, env.ok.s.Pool.Config().ConnConfig.Copy())
		require.NoError(t, err)
		defer func() { _ = conn.Close(ctx) }()
		holder, err := conn.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = holder.Rollback(ctx) }()
		const lockID = `hashtextextended($1::text || ':' || $2::text, 0)`
		scope := scopeOf(t, env.ok.s, r.header)
		_, err = holder.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockID+`)`, scope, key)
		require.NoError(t, err)
		env.ok.send(t, r).expect(t, "idempotency_in_progress", "")
		require.NoError(t, holder.Rollback(ctx))
		// Retryable: the same request with the same key now goes through.
		again := env.ok.send(t, r)
		require.Less(t, again.status, 500, "body: %s", again.body)
		require.NotEqual(t, "idempotency_in_progress", again.code)
	}},
	{"unauthenticated", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		r.header.Del(headerAPIKey)
		r.header.Del(headerAuthorization)
		env.ok.send(t, r).expect(t, "unauthenticated", "")

		// One credential per request: the valid request's own credential
		// and the other kind, each good alone, are refused together, on
		// operations that accept both schemes and on those that take one.
		both := env.valid(t, env.ok, op)
		both.setCredential(map[string]string{headerAPIKey: env.ok.key, headerAuthorization: "Bearer " + env.ok.jwt})
		env.ok.send(t, both).expect(t, "unauthenticated", "")
	}},
	{"token_expired", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		r.setCredential(map[string]string{headerAuthorization: "Bearer " + env.expiredJWT})
		env.ok.send(t, r).expect(t, "token_expired", "")
	}},
	{"key_revoked", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		if _, ok := op.Accepts(spec.SchemeAPIKey); ok {
			r.setCredential(map[string]string{headerAPIKey: env.revokedKey})
		} else {
			r.setCredential(map[string]string{headerAuthorization: "Bearer " + env.revokedJWT})
		}
		env.ok.send(t, r).expect(t, "key_revoked", "")
	}},
	{"forbidden", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		r.setCredential(env.forbiddenCredential(t, op))
		env.ok.send(t, r).expect(t, "forbidden", "")
	}},
	{"operation_not_enabled", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		// The integration that has every switchable operation turned off.
		env.disabled.send(t, env.valid(t, env.disabled, op)).expect(t, "operation_not_enabled", "")
		// A sandbox helper is off in live for everyone.
		if slices.Contains(op.Op.Tags, "sandbox") {
			env.live.send(t, env.valid(t, env.live, op)).expect(t, "operation_not_enabled", "")
		}
	}},
	{"payload_too_large", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		require.NotNil(t, r.body, "%s takes no body", op.ID)
		// The valid request, made too long by insignificant whitespace.
		r.raw = append(r.encodedBody(t), bytes.Repeat([]byte(" "), bodyLimitBytes)...)
		env.ok.send(t, r).expect(t, "payload_too_large", "")
	}},
	{"unsupported_media_type", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		r := env.valid(t, env.ok, op)
		require.NotNil(t, r.body, "%s takes no body", op.ID)
		r.header.Set(headerContentType, "text/plain")
		env.ok.send(t, r).expect(t, "unsupported_media_type", "")
	}},
	{"service_unavailable", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		// A server whose database pool is closed.
		env.down.send(t, env.valid(t, env.down, op)).expect(t, "service_unavailable", "")
	}},
	{"internal_error", func(t *testing.T, env *conventionEnv, op *spec.Operation) {
		// A server whose database lost the tables of API keys and signing
		// keys (a broken migration): whatever needs them fails.
		env.broken.send(t, env.valid(t, env.broken, op)).expect(t, "internal_error", "")
	}},
}

// conventionServer is a running server with a tenant to call it as.
type conventionServer struct {
	s           *apptest.Server
	integration string
	key         string // the bootstrap key: role operator, every scope but qr:mint
	jwt         string // a terminal JWT minted from key, with all its scopes
	walletApp   string // an API key holding qr:mint, which no other key may hold
}

// conventionEnv is everything the checks need.
type conventionEnv struct {
	ok       conventionServer // healthy, sandbox
	disabled conventionServer // ok's server, an integration with every switchable operation off
	live     conventionServer // healthy, live
	down     conventionServer // its database pool closed
	broken   conventionServer // tables renamed away

	expiredJWT string // ok's tenant, minted 11 minutes ago
	revokedKey string // ok's tenant, revoked
	revokedJWT string // minted from revokedKey before it was revoked
	narrow     []narrowKey
}

type narrowKey struct {
	secret string
	scopes []string
}

func newConventionEnv(t *testing.T) *conventionEnv {
	t.Helper()
	ctx := context.Background()
	e := authEnvOn(t, apptest.Start(t))
	env := &conventionEnv{ok: conventionServerOf(t, e)}

	for _, sc := range []client.Scope{client.ScopeCustomersRead, client.ScopeGrantsRead} {
		secret, _ := e.newKey(t, e.admin, "narrow "+string(sc), sc)
		env.narrow = append(env.narrow, narrowKey{secret: secret, scopes: []string{string(sc)}})
	}

	revoked, revokedID := e.newKey(t, e.admin, "revoked", client.ScopeCustomersRead)
	env.revokedJWT = issueTerminalJWT(t, e.svc, revoked)
	rv := e.revoke(t, e.admin, revokedID)
	require.Equal(t, http.StatusOK, rv.StatusCode(), "body: %s", rv.Body)
	env.revokedKey = revoked

	past := domainService(t, e.s, func() time.Time { return time.Now().Add(-11 * time.Minute) })
	env.expiredJWT = issueTerminalJWT(t, past, e.admin)

	in, key, err := e.svc.CreateIntegration(ctx, e.boot.Merchant.ID, "Switched-off POS")
	require.NoError(t, err)
	var switchable []string
	for _, op := range e.s.App.Spec.Operations() {
		if op.MayReturn("operation_not_enabled") {
			switchable = append(switchable, op.ID)
		}
	}
	_, err = e.s.Pool.Exec(ctx, `UPDATE integrations SET disabled_operations = $2 WHERE id = $1`, in.ID, switchable)
	require.NoError(t, err)
	env.disabled = conventionServer{
		s: e.s, integration: in.ID, key: key.Secret,
		jwt: issueTerminalJWT(t, e.svc, key.Secret), walletApp: walletAppKey(t, e.svc, key.Secret),
	}

	env.live = conventionServerOf(t, authEnvOn(t, apptest.Start(t, apptest.Live())))

	down := authEnvOn(t, apptest.Start(t))
	env.down = conventionServerOf(t, down)
	down.s.Pool.Close()

	broken := authEnvOn(t, apptest.Start(t))
	env.broken = conventionServerOf(t, broken)
	for _, table := range []string{"api_keys", "signing_keys"} {
		_, err := broken.s.Pool.Exec(ctx, `ALTER TABLE `+table+` RENAME TO `+table+`_gone`)
		require.NoError(t, err)
	}
	return env
}

func conventionServerOf(t *testing.T, e *authEnv) conventionServer {
	t.Helper()
	return conventionServer{
		s: e.s, integration: e.boot.Integration.ID, key: e.admin,
		jwt: issueTerminalJWT(t, e.svc, e.admin), walletApp: walletAppKey(t, e.svc, e.admin),
	}
}

// walletAppKey makes, through the domain, the wallet app's key (qr:mint
// only) with the operator key admin.
func walletAppKey(t *testing.T, svc *auth.Service, admin string) string {
	t.Helper()
	ctx := context.Background()
	p, err := svc.Authenticate(ctx, auth.Credentials{APIKey: admin})
	require.NoError(t, err)
	k, err := svc.CreateKey(ctx, p, auth.NewKey{Name: "wallet app", Scopes: []string{auth.ScopeQRMint}})
	require.NoError(t, err)
	return k.Secret
}

// issueTerminalJWT mints a token with every scope of key through the domain
// (POST /auth/token may be switched off for key's integration).
func issueTerminalJWT(t *testing.T, svc *auth.Service, key string) string {
	t.Helper()
	ctx := context.Background()
	p, err := svc.Authenticate(ctx, auth.Credentials{APIKey: key})
	require.NoError(t, err)
	tok, err := svc.IssueToken(ctx, p, "till-conventions", nil)
	require.NoError(t, err)
	return tok.Token
}

// credential is what satisfies op's security: the API key when it takes
// one, else the terminal JWT; nothing for a public operation.
func (c conventionServer) credential(op *spec.Operation) map[string]string {
	if scopes, ok := op.Accepts(spec.SchemeAPIKey); ok {
		if slices.Contains(scopes.Scopes, auth.ScopeQRMint) {
			return map[string]string{headerAPIKey: c.walletApp}
		}
		return map[string]string{headerAPIKey: c.key}
	}
	if _, ok := op.Accepts(spec.SchemeTerminalJWT); ok {
		return map[string]string{headerAuthorization: "Bearer " + c.jwt}
	}
	return nil
}

// forbiddenCredential authenticates but may not call op: a key without the
// scope it needs, else the kind of credential it does not take.
func (env *conventionEnv) forbiddenCredential(t *testing.T, op *spec.Operation) map[string]string {
	t.Helper()
	req, keys := op.Accepts(spec.SchemeAPIKey)
	if !keys {
		return map[string]string{headerAPIKey: env.ok.key}
	}
	if len(req.Scopes) > 0 {
		for _, k := range env.narrow {
			if !isSubset(req.Scopes, k.scopes) {
				return map[string]string{headerAPIKey: k.secret}
			}
		}
	}
	if _, jwt := op.Accepts(spec.SchemeTerminalJWT); !jwt {
		return map[string]string{headerAuthorization: "Bearer " + env.ok.jwt}
	}
	t.Fatalf("%s: no credential authenticates without being allowed", op.ID)
	return nil
}

func isSubset(sub, of []string) bool {
	for _, s := range sub {
		if !slices.Contains(of, s) {
			return false
		}
	}
	return true
}

// conventionRequest is one HTTP request under construction.
type conventionRequest struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   map[string]any // nil when the operation takes no body
	raw    []byte         // sent instead of body when set
}

func (r conventionRequest) meta(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body["meta"].(map[string]any)
	require.True(t, ok, "the request has no meta block: %v", r.body)
	return m
}

func (r conventionRequest) setCredential(cred map[string]string) {
	r.header.Del(headerAPIKey)
	r.header.Del(headerAuthorization)
	for k, v := range cred {
		r.header.Set(k, v)
	}
}

func (r conventionRequest) encodedBody(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(r.body)
	require.NoError(t, err)
	return b
}

// valid builds a request of op that passes every convention on srv.
func (env *conventionEnv) valid(t *testing.T, srv conventionServer, op *spec.Operation) conventionRequest {
	t.Helper()
	r := conventionRequest{method: op.Method, path: op.Path, query: url.Values{}, header: http.Header{}}
	for _, p := range operationParameters(op) {
		switch p.In {
		case openapi3.ParameterInPath:
			r.path = strings.Replace(r.path, "{"+p.Name+"}", url.PathEscape(pathValue(t, op, p, srv.integration)), 1)
		case openapi3.ParameterInQuery:
			// Required ones, and optional ones the document gives an example
			// of (GET /customers/lookup needs one of its four).
			if v, ok := parameterExample(p); ok {
				r.query.Set(p.Name, v)
			} else {
				require.False(t, p.Required, "%s: required query parameter %s has no example", op.ID, p.Name)
			}
		}
	}
	if op.Idempotency != spec.IdempotencyNone {
		r.header.Set(headerIdempotencyKey, newIdemKey())
	}
	r.setCredential(srv.credential(op))
	if spec.HasBody(op.Method) {
		r.header.Set(headerContentType, "application/json")
		r.body = firstRequestExample(t, op)
		r.meta(t)["api_version"] = apptest.APIVersion
	}
	return r
}

func operationParameters(op *spec.Operation) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, ps := range []openapi3.Parameters{op.PathItem.Parameters, op.Op.Parameters} {
		for _, p := range ps {
			if p != nil && p.Value != nil {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

// idPattern is the pattern of a prefixed ULID id schema (^pay_[0-9A-HJKMNP-TV-Z]{26}$).
var idPattern = regexp.MustCompile(`^\^([a-z]+)_\[0-9A-HJKMNP-TV-Z\]\{26\}\$$`)

// pathValue is a fresh id matching the parameter's schema (the caller's own
// integration for an integration id), or else the document's example.
func pathValue(t *testing.T, op *spec.Operation, p *openapi3.Parameter, integrationID string) string {
	t.Helper()
	require.NotNil(t, p.Schema, "%s: path parameter %s has no schema", op.ID, p.Name)
	if m := idPattern.FindStringSubmatch(p.Schema.Value.Pattern); m != nil {
		if m[1] == ids.Integration {
			return integrationID
		}
		return ids.New(m[1])
	}
	v, ok := parameterExample(p)
	require.True(t, ok, "%s: path parameter %s has neither an id pattern nor an example", op.ID, p.Name)
	return v
}

func parameterExample(p *openapi3.Parameter) (string, bool) {
	if p.Example != nil {
		return toString(p.Example), true
	}
	if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Example != nil {
		return toString(p.Schema.Value.Example), true
	}
	return "", false
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// firstRequestExample is a fresh copy of the operation's first request
// example, in document order.
func firstRequestExample(t *testing.T, op *spec.Operation) map[string]any {
	t.Helper()
	require.NotNil(t, op.Op.RequestBody, "%s has no request body", op.ID)
	media := op.Op.RequestBody.Value.Content.Get("application/json")
	require.NotNil(t, media, "%s takes no JSON", op.ID)
	names := requestExampleNames()[op.Method+" "+op.Path]
	require.NotEmpty(t, names, "%s has no request example", op.ID)
	ex := media.Examples[names[0]]
	require.NotNil(t, ex, "%s: example %s", op.ID, names[0])
	raw, err := json.Marshal(ex.Value.Value)
	require.NoError(t, err)
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&body))
	return body
}

// requestExampleNames lists, per "METHOD /path", the names of the request
// examples in the order the document writes them (kin-openapi keeps them in
// a map).
var requestExampleNames = sync.OnceValue(func() map[string][]string {
	out := map[string][]string{}
	var root yaml.Node
	if err := yaml.Unmarshal(openapi.Document, &root); err != nil || len(root.Content) == 0 {
		return out
	}
	paths := yamlChild(root.Content[0], "paths")
	if paths == nil {
		return out
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			method := strings.ToUpper(item.Content[j].Value)
			examples := yamlChild(item.Content[j+1], "requestBody", "content", "application/json", "examples")
			if examples == nil {
				continue
			}
			for k := 0; k < len(examples.Content); k += 2 {
				out[method+" "+path] = append(out[method+" "+path], examples.Content[k].Value)
			}
		}
	}
	return out
})

func yamlChild(n *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// conventionAnswer is a response as the checks see it.
type conventionAnswer struct {
	status int
	code   string
	field  string
	body   []byte
}

func (c conventionServer) send(t *testing.T, r conventionRequest) conventionAnswer {
	t.Helper()
	u := c.s.URL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	switch {
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	case r.body != nil:
		body = bytes.NewReader(r.encodedBody(t))
	}
	req, err := http.NewRequest(r.method, u, body)
	require.NoError(t, err)
	req.Header = r.header.Clone()
	res := c.s.Do(t, req)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a := conventionAnswer{status: res.StatusCode, body: raw}
	if res.StatusCode >= 400 {
		var env struct {
			Error struct {
				Code  string  `json:"code"`
				Field *string `json:"field"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(raw, &env), "body: %s", raw)
		a.code = env.Error.Code
		if env.Error.Field != nil {
			a.field = *env.Error.Field
		}
	}
	return a
}

// expect asserts the answer is code with its status and, when given, the
// JSON pointer of the offending input.
func (a conventionAnswer) expect(t *testing.T, code, field string) {
	t.Helper()
	require.Equal(t, code, a.code, "status %d, body: %s", a.status, a.body)
	require.Equal(t, conventionStatus[code], a.status, "body: %s", a.body)
	if field != "" {
		require.Equal(t, field, a.field, "body: %s", a.body)
	}
}

// scopeOf is the idempotency scope of the credential in header (the one
// a request with that header runs under) after its merchant, as the key's
// lock names them (idempotency_claim, 00017), for tests that hold a key's
// lock.
func scopeOf(t *testing.T, s *apptest.Server, header http.Header) string {
	t.Helper()
	token, err := auth.BearerToken(header.Get(headerAuthorization))
	require.NoError(t, err)
	p, err := s.App.Server.Auth.Authenticate(context.Background(), auth.Credentials{APIKey: header.Get(headerAPIKey), BearerToken: token})
	require.NoError(t, err)
	return p.MerchantID + ":" + httpapi.IdempotencyScope(p)
}
