// Package typescript holds the test of the TypeScript client example: the
// program first-payment.ts, compiled against types generated from the
// document a real server serves, run against that server.
package typescript

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/app/apptest"
)

// enableVar turns the test on: it needs Node and the repository's
// node_modules (npm ci), which plain `make test` does not ask for.
const enableVar = "FEDDI_TEST_TS"

// The example's files, copied next to the generated types of each build.
var exampleFiles = []string{"first-payment.ts", "tsconfig.json", "package.json"}

func TestTypeScriptClient(t *testing.T) {
	if os.Getenv(enableVar) == "" {
		t.Skipf("the TypeScript client example needs Node 20 and node_modules: run `make test-ts` (or set %s=1 after npm ci)", enableVar)
	}
	ts := findToolchain(t)
	s := apptest.Start(t)
	s.StartJobs(t) // the SMS dispatcher fills the sandbox inbox
	tenant := s.Bootstrap(t, "TypeScript Merchant")
	doc := servedDocument(t, s.URL)

	// Every subtest needs the compiled program, so it is built once here.
	build := ts.project(t, doc)
	out, err := ts.compile(t, build)
	require.NoError(t, err, "tsc on the served document:\n%s", out)

	t.Run("RunsTheFirstPaymentFlow", func(t *testing.T) {
		t.Parallel()
		out, err := ts.run(t, build, s.URL, tenant.APIKey)
		require.NoError(t, err, "first-payment.js:\n%s", out)
		t.Logf("first-payment.js:\n%s", out)

		var summary struct {
			WalletID       string `json:"wallet_id"`
			PaymentID      string `json:"payment_id"`
			Status         string `json:"status"`
			SpendableMinor int64  `json:"spendable_minor"`
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &summary), "the last line is the JSON summary:\n%s", out)
		require.Equal(t, "captured", summary.Status)

		// The money moved: the ledger's wallet holds what the flow left
		// (1000 topped up + 1500 welcome grant - 2000 paid, promo first),
		// and the payment is the integration's, captured.
		ctx := context.Background()
		var actual, promoAvailable, promoLocked int64
		var walletStatus string
		require.NoError(t, s.Pool.QueryRow(ctx,
			`SELECT status, actual_minor, promo_available_minor, promo_locked_minor FROM wallets WHERE id = $1 AND merchant_id = $2`,
			summary.WalletID, tenant.MerchantID).Scan(&walletStatus, &actual, &promoAvailable, &promoLocked))
		require.Equal(t, "verified", walletStatus)
		require.Equal(t, int64(500), actual)
		require.Equal(t, int64(0), promoAvailable)
		require.Equal(t, int64(0), promoLocked)

		var payStatus, integration string
		var promoCaptured, actualCaptured int64
		require.NoError(t, s.Pool.QueryRow(ctx,
			`SELECT status, integration_id, promo_captured_minor, actual_captured_minor FROM payments WHERE id = $1 AND wallet_id = $2`,
			summary.PaymentID, summary.WalletID).Scan(&payStatus, &integration, &promoCaptured, &actualCaptured))
		require.Equal(t, "captured", payStatus)
		require.Equal(t, tenant.IntegrationID, integration)
		require.Equal(t, int64(1500), promoCaptured)
		require.Equal(t, int64(500), actualCaptured)
	})

	t.Run("RunFailsWhenAnAnswerIsWrong", func(t *testing.T) {
		t.Parallel()
		// A server that says a captured payment is only authorized: the
		// program must notice, name the step and exit non-zero.
		proxy := tamperingProxy(t, s.URL, "/payments", `"status":"captured"`, `"status":"authorized"`)
		out, err := ts.run(t, build, proxy, tenant.APIKey)
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "first-payment.js must fail:\n%s", out)
		require.Equal(t, 1, exit.ExitCode(), out)
		require.Contains(t, out, "first-payment: pay: status is authorized, expected captured")
		t.Logf("first-payment.js against the tampering proxy:\n%s", out)
	})

	// A change of the document that breaks the program fails the type check,
	// naming what broke: the planted defects of the CI stage.
	breaking := []struct {
		name   string
		change func(t *testing.T, doc map[string]any)
		want   string
	}{
		{
			name: "WhenAFieldItReadsIsRenamed",
			change: func(t *testing.T, doc map[string]any) {
				payment := responseData(t, doc, "/payments", "post")
				renameProperty(t, payment, "status", "state")
			},
			want: "Property 'status' does not exist",
		},
		{
			name: "WhenARequestFieldBecomesRequired",
			change: func(t *testing.T, doc map[string]any) {
				topup := requestData(t, doc, "/topup/confirm", "post")
				addRequiredProperty(t, topup, "terminal_receipt")
			},
			want: "Property 'terminal_receipt' is missing",
		},
	}
	for _, tc := range breaking {
		t.Run("TypeCheckFails"+tc.name, func(t *testing.T) {
			t.Parallel()
			var broken map[string]any
			require.NoError(t, json.Unmarshal(doc, &broken))
			tc.change(t, broken)
			changed, err := json.Marshal(broken)
			require.NoError(t, err)

			out, err := ts.compile(t, ts.project(t, changed))
			require.Error(t, err, "tsc must refuse the program against the changed document:\n%s", out)
			require.Contains(t, out, "first-payment.ts(", "the error names the program")
			require.Contains(t, out, tc.want)
			t.Logf("tsc:\n%s", out)
		})
	}
}

// toolchain is Node and the pinned packages of the repository's
// node_modules: openapi-typescript, openapi-fetch and tsc.
type toolchain struct {
	root, node, generator, tsc string
}

func findToolchain(t *testing.T) toolchain {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is not on PATH: install Node 20")
	bin := filepath.Join(root, "node_modules", ".bin")
	ts := toolchain{root: root, node: node, generator: filepath.Join(bin, "openapi-typescript"), tsc: filepath.Join(bin, "tsc")}
	for _, tool := range []string{ts.generator, ts.tsc} {
		_, err := os.Stat(tool)
		require.NoError(t, err, "%s is missing: run npm ci at the repository root", filepath.Base(tool))
	}
	return ts
}

// project lays out the example in a fresh folder as a copy of
// examples/typescript, with the types generated from doc (JSON) in
// generated/api.d.ts, and returns the folder.
func (ts toolchain) project(t *testing.T, doc []byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range exampleFiles {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(ts.root, "node_modules"), filepath.Join(dir, "node_modules")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "openapi.json"), doc, 0o644))
	// As the example's README says; run in dir, away from the repository's
	// redocly.yaml, which openapi-typescript would otherwise read.
	out, err := ts.exec(t, dir, nil, ts.generator, "openapi.json", "--default-non-nullable", "false", "-o", "generated/api.d.ts")
	require.NoError(t, err, "openapi-typescript:\n%s", out)
	return dir
}

// compile type-checks and emits the program (tsc -p, strict); the error is
// tsc's exit, the output its diagnostics.
func (ts toolchain) compile(t *testing.T, dir string) (string, error) {
	t.Helper()
	return ts.exec(t, dir, nil, ts.tsc, "-p", ".")
}

// run runs the compiled program against baseURL with an API key.
func (ts toolchain) run(t *testing.T, dir, baseURL, apiKey string) (string, error) {
	t.Helper()
	return ts.exec(t, dir, []string{"FEDDI_URL=" + baseURL, "FEDDI_API_KEY=" + apiKey}, ts.node, filepath.Join("out", "first-payment.js"))
}

func (ts toolchain) exec(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = errors.Join(err, fmt.Errorf("%s did not finish: %w", filepath.Base(name), ctx.Err()))
	}
	return string(out), err
}

// servedDocument is GET /openapi as JSON: what an integrator generates from.
func servedDocument(t *testing.T, baseURL string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, baseURL+"/openapi", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "GET /openapi: %s", body)
	require.True(t, json.Valid(body), "GET /openapi with Accept: application/json is not JSON")
	return body
}

// tamperingProxy forwards to target and, in the answers to requests for
// path, replaces old with replacement.
func tamperingProxy(t *testing.T, target, path, old, replacement string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(res *http.Response) error {
		if res.Request.URL.Path != path {
			return nil
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		_ = res.Body.Close()
		body = bytes.ReplaceAll(body, []byte(old), []byte(replacement))
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// responseData is the schema of data in the 200 answer of an operation,
// found from the path so that renamed component schemas do not matter.
func responseData(t *testing.T, doc map[string]any, path, method string) map[string]any {
	t.Helper()
	op := dig(t, doc, doc, "paths", path, method)
	envelope := dig(t, doc, op, "responses", "200", "content", "application/json", "schema")
	return dig(t, doc, envelope, "properties", "data")
}

// requestData is the schema of data in the request body of an operation.
func requestData(t *testing.T, doc map[string]any, path, method string) map[string]any {
	t.Helper()
	op := dig(t, doc, doc, "paths", path, method)
	envelope := dig(t, doc, op, "requestBody", "content", "application/json", "schema")
	return dig(t, doc, envelope, "properties", "data")
}

// dig walks keys from node, following local $refs on the way, and returns
// the object it ends on (resolved too).
func dig(t *testing.T, doc, node map[string]any, keys ...string) map[string]any {
	t.Helper()
	cur := resolve(t, doc, node)
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		require.True(t, ok, "the document has no object %q here (walking %v)", k, keys)
		cur = resolve(t, doc, next)
	}
	return cur
}

func resolve(t *testing.T, doc, node map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		require.True(t, strings.HasPrefix(ref, "#/"), "only local references are followed: %s", ref)
		cur := doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			next, ok := cur[part].(map[string]any)
			require.True(t, ok, "unresolvable reference %s", ref)
			cur = next
		}
		node = cur
	}
}

func renameProperty(t *testing.T, schema map[string]any, from, to string) {
	t.Helper()
	props, ok := schema["properties"].(map[string]any)
	require.True(t, ok, "the schema has no properties")
	require.Contains(t, props, from)
	props[to] = props[from]
	delete(props, from)
	required, _ := schema["required"].([]any)
	for i, name := range required {
		if name == from {
			required[i] = to
		}
	}
}

func addRequiredProperty(t *testing.T, schema map[string]any, name string) {
	t.Helper()
	props, ok := schema["properties"].(map[string]any)
	require.True(t, ok, "the schema has no properties")
	require.NotContains(t, props, name)
	props[name] = map[string]any{"type": "string"}
	required, _ := schema["required"].([]any)
	schema["required"] = append(required, name)
}
