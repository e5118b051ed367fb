package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/apierror"
)

// Hostile input is refused with validation_failed naming the field, before
// any handler, credential lookup or idempotency record (issue 11).
func TestRefusesHostileInput(t *testing.T) {
	t.Parallel()
	b := setup(t)

	cases := []struct {
		name  string
		call  call
		field string
	}{
		{"DuplicateKey", topup(strings.Replace(validTopup, `"amount_minor":5000`, `"amount_minor":1,"amount_minor":100000000`, 1), "h1"), "/data/amount_minor"},
		{"DuplicateNestedKey", topup(strings.Replace(validTopup, `"api_version":"2026-06-01"`, `"api_version":"2026-06-01","api_version":"2026-06-01"`, 1), "h2"), "/meta/api_version"},
		{"NULInString", topup(strings.Replace(validTopup, `ref-1`, `ref\u0000-1`, 1), "h3"), "/data/settlement_reference"},
		{"LoneSurrogate", topup(strings.Replace(validTopup, `ref-1`, `ref\ud800-1`, 1), "h4"), "/data/settlement_reference"},
		{"InvalidUTF8", topup(strings.Replace(validTopup, `ref-1`, "ref\xff-1", 1), "h5"), "/data/settlement_reference"},
		{"InvalidUTF8InHeader", topup(validTopup, "h6\xff"), "/header/Idempotency-Key"},
		{"NULInQuery", call{method: http.MethodGet, path: "/health?x=a%00b"}, "/query/x"},
		{"InvalidUTF8InQuery", call{method: http.MethodGet, path: "/health?x=%ff"}, "/query/x"},
		{"NULInPath", call{method: http.MethodGet, path: "/payments/pay_%00"}, "/path/id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.handled.Load()
			res, env := b.do(t, tc.call)
			requireError(t, env, res, apierror.ValidationFailed)
			require.NotNil(t, env.Error.Field, env.Error.Message)
			require.Equal(t, tc.field, *env.Error.Field, env.Error.Message)
			require.Equal(t, before, b.handled.Load(), "a refused request never reaches its handler")
		})
	}

	// net/http refuses to send or receive a NUL in a header; the check
	// holds for any transport that would carry one.
	for _, header := range []string{"Idempotency-Key", "X-Request-Id", "X-Api-Key"} {
		t.Run("NULInHeader"+header, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/topup/confirm", strings.NewReader(validTopup))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", "good")
			req.Header.Set("Idempotency-Key", "h7")
			req.Header[header] = []string{"a\x00b"}
			rec := httptest.NewRecorder()
			b.handler.ServeHTTP(rec, req)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			var env envelope
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
			require.Equal(t, string(apierror.ValidationFailed), env.Error.Code)
			require.Equal(t, "/header/"+header, *env.Error.Field)
		})
	}

	t.Run("HeadersNeverReadMayHoldAnything", func(t *testing.T) {
		// A proxy's or a device's header (Latin-1 in a User-Agent) is
		// nobody's input: the request goes through.
		before := b.handled.Load()
		c := topup(validTopup, "h8")
		c.header["User-Agent"] = "Caf\xe9Till/1.0"
		c.header["X-Forwarded-Note"] = "a\xffb"
		res, env := b.do(t, c)
		require.Equal(t, http.StatusOK, res.StatusCode, "%+v", env.Error)
		require.Equal(t, before+1, b.handled.Load())
	})
}

// TestRefusedRequestsEchoTheirKey: a keyed request refused before its key
// is claimed still says which key it carried; a malformed key is not echoed.
func TestRefusedRequestsEchoTheirKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	invalid := strings.Replace(validTopup, `"amount_minor":5000`, `"amount_minor":"five"`, 1)

	res, env := b.do(t, topup(invalid, "echo-1"))
	requireError(t, env, res, apierror.ValidationFailed)
	require.NotNil(t, env.Meta.IdempotencyKey)
	require.Equal(t, "echo-1", *env.Meta.IdempotencyKey)

	res, env = b.do(t, topup(invalid, strings.Repeat("k", 256)))
	requireError(t, env, res, apierror.ValidationFailed)
	require.Nil(t, env.Meta.IdempotencyKey, "a key the document refuses is not echoed")
}
