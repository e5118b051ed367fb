package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// TestResponseCheckRefusesWhatTheDocumentRefuses proves the response check
// that every end-to-end test relies on: a stand-in getHealth answers bodies
// that break the document in one way each, and each is reported.
func TestResponseCheckRefusesWhatTheDocumentRefuses(t *testing.T) {
	t.Parallel()
	s, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	var body string
	var verdict httpx.ResponseCheck
	e := httpx.New(httpx.Options{
		Spec:          s,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		CheckResponse: func(c httpx.ResponseCheck) { verdict = c },
	})
	e.GET("/health", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, []byte(body))
	})
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)

	const valid = `{"ok":true,"data":{"status":"ok","degraded_subsystems":[],"checked_at":"2026-06-01T09:42:00Z"},` +
		`"error":null,"meta":{"api_version":"2026-06-01","request_id":"req_1","idempotency_key":null,"idempotent_replay":false}}`
	check := func(t *testing.T, b string) error {
		t.Helper()
		body = b
		res, err := http.Get(ts.URL + "/health")
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, "getHealth", verdict.Operation.ID)
		return verdict.Problem
	}
	// The subtests share the server and run one after the other.
	require.NoError(t, check(t, valid), "a conforming body, with a null in a [string, null] field")
	for name, broken := range map[string]string{
		"ConstOk":              strings.Replace(valid, `"ok":true`, `"ok":false`, 1),
		"Enum":                 strings.Replace(valid, `"status":"ok"`, `"status":"sleeping"`, 1),
		"Format":               strings.Replace(valid, `"2026-06-01T09:42:00Z"`, `"yesterday"`, 1),
		"Pattern":              strings.Replace(valid, `"req_1"`, `"request-1"`, 1),
		"AdditionalProperties": strings.Replace(valid, `"status":"ok"`, `"status":"ok","mood":"fine"`, 1),
		"Required":             strings.Replace(valid, `"checked_at":"2026-06-01T09:42:00Z"`, `"checked_at":null`, 1),
		"TypeNull":             strings.Replace(valid, `"error":null`, `"error":{}`, 1),
		"NullNotAllowed":       strings.Replace(valid, `"degraded_subsystems":[]`, `"degraded_subsystems":null`, 1),
		"MissingMeta":          strings.Replace(valid, `,"meta":{"api_version":"2026-06-01","request_id":"req_1","idempotency_key":null,"idempotent_replay":false}`, ``, 1),
	} {
		require.NotEqual(t, valid, broken, name)
		require.Error(t, check(t, broken), "%s: the check refuses it", name)
	}
}
