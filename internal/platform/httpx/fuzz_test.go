package httpx_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// FuzzRequestPath sends arbitrary bodies, query strings and header values
// through the whole convention stack over the real document (reading,
// hostile input, credentials, version pinning, validation) to stand-in
// handlers, without a database: whatever comes in, the answer is never a 5xx.
func FuzzRequestPath(f *testing.F) {
	s, err := spec.Load(openapi.Document)
	if err != nil {
		f.Fatal(err)
	}
	e := httpx.New(httpx.Options{
		Spec:   s,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticate: func(c echo.Context, _ *spec.Operation) (context.Context, error) {
			if c.Request().Header.Get("X-Api-Key") == "" {
				return nil, apierror.New(apierror.Unauthenticated, "no credential")
			}
			return c.Request().Context(), nil
		},
		IdempotencyScope: func(context.Context) (string, string) { return "mer_fuzz", "int_fuzz" },
	})
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	e.POST("/topup/confirm", ok)
	e.GET("/events", ok)
	e.GET("/payments/:id", ok)

	f.Add(validTopup, "", "req_1", "key")
	f.Add(strings.Replace(validTopup, `"amount_minor":5000`, `"amount_minor":1,"amount_minor":2`, 1), "", "", "key")
	f.Add(`{"meta":{"api_version":"2026-06-01"},"data":{"s":"\ud800\u0000"}}`, "limit=5&cursor=a%00", "req_\x00", "k\xff")
	f.Add("{\"a\":\"\xff\"}", "%zz=1&limit=-1", "", "")
	f.Fuzz(func(t *testing.T, body, query, requestID, apiKey string) {
		for _, target := range []string{"/topup/confirm", "/events", "/payments/pay_" + url.PathEscape(requestID)} {
			method := http.MethodGet
			if target == "/topup/confirm" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/", strings.NewReader(body))
			req.URL.Path, req.URL.RawQuery = target, query
			if method == http.MethodPost {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header["X-Request-Id"] = []string{requestID}
			req.Header["X-Api-Key"] = []string{apiKey}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s?%q body %q: %d %s", method, target, query, body, rec.Code, rec.Body)
			}
		}
	})
}
