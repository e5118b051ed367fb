package spec_test

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// changelog is every operation of the first public release, method and path
// exactly as the changelog writes them, with the stability the document's
// "Versioning and stability" section gives (x-stability).
var changelog = map[string]string{
	"GET /health":                                       "ga",
	"GET /capabilities":                                 "ga",
	"GET /openapi":                                      "ga",
	"POST /auth/keys":                                   "ga",
	"GET /auth/keys":                                    "ga",
	"POST /auth/keys/{keyId}/revoke":                    "ga",
	"POST /auth/keys/{keyId}/regenerate":                "ga",
	"POST /auth/keys/{keyId}/delete":                    "ga",
	"POST /auth/token":                                  "ga",
	"GET /auth/token/validate":                          "ga",
	"POST /identify":                                    "ga",
	"POST /checkout/sessions/{id}/identify":             "beta",
	"GET /customers/lookup":                             "beta",
	"POST /enroll/initiate":                             "beta",
	"POST /enroll/verify":                               "beta",
	"POST /enroll/resend":                               "beta",
	"POST /claims":                                      "beta",
	"POST /payments":                                    "ga",
	"GET /payments/{id}":                                "ga",
	"POST /payments/{id}/capture":                       "ga",
	"POST /qr/mint":                                     "beta",
	"POST /topup/confirm":                               "ga",
	"POST /topup/sku/{skuId}":                           "beta",
	"POST /topup/reload-bonus/config":                   "beta",
	"GET /customers/{customerId}/grants":                "beta",
	"POST /grants/{id}/clawback":                        "beta",
	"GET /{integrationId}/transactions":                 "ga",
	"GET /{integrationId}/transactions/{transactionId}": "ga",
}

func load(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	return s
}

func TestDocument(t *testing.T) {
	t.Parallel()
	s := load(t)

	t.Run("DeclaresOpenAPI31", func(t *testing.T) {
		require.True(t, strings.HasPrefix(s.Doc.OpenAPI, "3.1."), "openapi: %s", s.Doc.OpenAPI)
		require.Equal(t, "2026-06-01", s.APIVersion)
	})

	t.Run("HasEveryChangelogOperationWithItsStability", func(t *testing.T) {
		require.Len(t, changelog, 28)
		byRoute := map[string]*spec.Operation{}
		for _, op := range s.Operations() {
			byRoute[op.Method+" "+op.Path] = op
		}
		for route, stability := range changelog {
			op, ok := byRoute[route]
			require.True(t, ok, "%s is missing from the document", route)
			require.Equal(t, stability, op.Stability, "%s x-stability", route)
		}
	})

	t.Run("ErrorCodeEnumIsExactlyTheCodesTheServerEmits", func(t *testing.T) {
		var server []string
		for _, c := range apierror.Codes() {
			server = append(server, string(c))
		}
		doc := s.ErrorCodes()
		sort.Strings(server)
		sort.Strings(doc)
		require.Equal(t, doc, server)
	})

	t.Run("EveryOperationDocumentsKnownErrorCodes", func(t *testing.T) {
		enum := s.ErrorCodes()
		for _, op := range s.Operations() {
			require.NotEmpty(t, op.ErrorCodes, "%s lists no x-error-codes", op.ID)
			for _, c := range op.ErrorCodes {
				require.Contains(t, enum, c, "%s lists an unknown code", op.ID)
			}
			require.Contains(t, op.ErrorCodes, string(apierror.InternalError), op.ID)
			if op.Idempotency == spec.IdempotencyRequired {
				require.Contains(t, op.ErrorCodes, string(apierror.IdempotencyKeyRequired), op.ID)
			}
			if op.Authenticated() {
				require.Contains(t, op.ErrorCodes, string(apierror.Unauthenticated), op.ID)
			}
		}
	})

	t.Run("SecurityNamesKnownSchemesAndIdempotencyFitsTheMethod", func(t *testing.T) {
		for _, op := range s.Operations() {
			for _, r := range op.Security {
				require.Contains(t, []string{spec.SchemeAPIKey, spec.SchemeTerminalJWT}, r.Scheme, op.ID)
			}
			if op.Method == http.MethodGet {
				require.Equal(t, spec.IdempotencyNone, op.Idempotency, op.ID)
			} else {
				require.NotEqual(t, spec.IdempotencyNone, op.Idempotency, op.ID)
			}
		}
	})

	t.Run("OnlyClawbackNeedsTheOperatorRole", func(t *testing.T) {
		var withRole []string
		for _, op := range s.Operations() {
			if op.RequiredRole != "" {
				withRole = append(withRole, op.ID+":"+op.RequiredRole)
			}
		}
		require.Equal(t, []string{"clawbackGrant:operator"}, withRole)
	})

	t.Run("KeyManagementTakesAnAPIKeyOnly", func(t *testing.T) {
		for _, op := range s.Operations() {
			if strings.HasPrefix(op.Path, "/auth/keys") || op.ID == "createTerminalToken" || op.ID == "clawbackGrant" {
				_, jwt := op.Accepts(spec.SchemeTerminalJWT)
				require.False(t, jwt, "%s must refuse terminal JWTs", op.ID)
				_, key := op.Accepts(spec.SchemeAPIKey)
				require.True(t, key, op.ID)
			}
		}
	})

	t.Run("IndexesRoutesForEcho", func(t *testing.T) {
		op, ok := s.ByRoute("POST", "/payments/:id/capture")
		require.True(t, ok)
		require.Equal(t, "capturePayment", op.ID)
		require.True(t, slices.ContainsFunc(s.Operations(), func(o *spec.Operation) bool { return o.ID == "getJwks" }))
	})
}

func TestLoadRefusesAnOperationWithoutStability(t *testing.T) {
	t.Parallel()
	broken := strings.Replace(string(openapi.Document), "x-stability: ga", "x-stability: soon", 1)
	_, err := spec.Load([]byte(broken))
	require.ErrorContains(t, err, "x-stability")
}

// TestErrorCodeTableMatchesTheServer reads the table in the ErrorCode
// description (code, HTTP status, retryable) and holds the server to it.
func TestErrorCodeTableMatchesTheServer(t *testing.T) {
	t.Parallel()
	s := load(t)
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| (\\d{3}) \\| (yes|no) \\|")
	seen := map[string]bool{}
	for _, line := range strings.Split(s.Doc.Components.Schemas["ErrorCode"].Value.Description, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		code := apierror.Code(m[1])
		require.Equal(t, m[2], strconv.Itoa(code.Status()), "HTTP status of %s", code)
		require.Equal(t, m[3] == "yes", code.Retryable(), "retryable of %s", code)
		seen[m[1]] = true
	}
	require.Len(t, seen, len(apierror.Codes()), "the table describes every code")
}

// TestSchemasNeedNoJSONSchema2020Validator holds the document to what
// kin-openapi's cached 3.0 validator enforces exactly, the condition under
// which ValidationDoc is safe for requests and responses (see its comment):
// no 2020-12-only keyword, and every `const` restated as its one-value enum.
func TestSchemasNeedNoJSONSchema2020Validator(t *testing.T) {
	t.Parallel()
	s := load(t)
	uses2020 := func(sc *openapi3.Schema) bool {
		return len(sc.PrefixItems) != 0 || sc.Contains != nil ||
			len(sc.PatternProperties) != 0 || len(sc.DependentSchemas) != 0 || sc.PropertyNames != nil ||
			sc.UnevaluatedItems.Has != nil || sc.UnevaluatedItems.Schema != nil ||
			sc.UnevaluatedProperties.Has != nil || sc.UnevaluatedProperties.Schema != nil ||
			sc.If != nil || sc.Then != nil || sc.Else != nil ||
			len(sc.DependentRequired) != 0 || len(sc.Defs) != 0 || sc.ContentSchema != nil
	}
	visited, consts := 0, 0
	check := func(where string, ref *openapi3.SchemaRef) {
		if ref == nil {
			return
		}
		require.NoError(t, ref.WalkSubtree(func(path string, r *openapi3.SchemaRef) error {
			visited++
			require.False(t, uses2020(r.Value), "%s %s uses a JSON Schema 2020-12 keyword", where, path)
			if r.Value.Const != nil {
				consts++
				require.Equal(t, []any{r.Value.Const}, r.Value.Enum, "%s %s: const is restated as its enum", where, path)
			}
			return nil
		}), where)
	}
	for _, op := range s.Operations() {
		for _, p := range append(append(openapi3.Parameters{}, op.PathItem.Parameters...), op.Op.Parameters...) {
			check(op.ID+" parameter "+p.Value.Name, p.Value.Schema)
		}
		if rb := op.Op.RequestBody; rb != nil {
			for _, mt := range rb.Value.Content {
				check(op.ID+" body", mt.Schema)
			}
		}
		for status, r := range op.Op.Responses.Map() {
			for _, mt := range r.Value.Content {
				check(op.ID+" "+status+" body", mt.Schema)
			}
			for name, h := range r.Value.Headers {
				check(op.ID+" "+status+" header "+name, h.Value.Schema)
			}
		}
	}
	require.Greater(t, visited, 1000, "the walk reached the nested request and response schemas")
	require.Positive(t, consts, "the walk met the envelopes' ok: const")
}

func TestOperationsInDocumentOrder(t *testing.T) {
	t.Parallel()
	s := load(t)
	ops := s.OperationsInDocumentOrder()
	require.Len(t, ops, len(s.Operations()))
	require.Equal(t, "getHealth", ops[0].ID)
	require.Equal(t, "getCapabilities", ops[1].ID)
	seen := map[string]bool{}
	for _, o := range ops {
		require.False(t, seen[o.ID], "%s listed twice", o.ID)
		seen[o.ID] = true
	}
}

// Every listing (an operation taking a cursor) states its page sizes, and
// nothing else has any.
func TestListingsStateTheirPageSizes(t *testing.T) {
	t.Parallel()
	s := load(t)
	listings := 0
	for _, o := range s.Operations() {
		takesCursor := slices.ContainsFunc(slices.Concat(o.PathItem.Parameters, o.Op.Parameters), func(p *openapi3.ParameterRef) bool {
			return p.Value.In == openapi3.ParameterInQuery && p.Value.Name == "cursor"
		})
		if !takesCursor {
			require.Nil(t, o.PageSizes, o.ID)
			continue
		}
		listings++
		require.NotNil(t, o.PageSizes, "%s takes a cursor but no limit", o.ID)
		require.GreaterOrEqual(t, o.PageSizes.Max, o.PageSizes.Default, o.ID)
		require.GreaterOrEqual(t, o.PageSizes.Default, 1, o.ID)
	}
	require.Equal(t, 8, listings)
	require.Equal(t, spec.PageSizes{Default: 50, Max: 200}, s.CommonPageSizes())
}

func TestLoadRefusesALimitWithoutMaximum(t *testing.T) {
	t.Parallel()
	broken := strings.Replace(string(openapi.Document), "        maximum: 200\n        default: 50\n", "        default: 50\n", 1)
	require.NotEqual(t, string(openapi.Document), broken)
	_, err := spec.Load([]byte(broken))
	require.ErrorContains(t, err, "must state an integer default and maximum")
}
