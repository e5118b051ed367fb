package httpx_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/openapi"
)

// These tests run the conventions over the real document and database with
// stand-in handlers on real routes, so each convention is proven on its own.

type bundle struct {
	url     string
	pool    *pgxpool.Pool
	handled *atomic.Int32
	// handler serves requests directly, for what net/http would refuse to
	// carry (a NUL in a header value).
	handler http.Handler
}

func setup(t *testing.T) bundle {
	t.Helper()
	s, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	pool := testdb.New(t)
	_, err = pool.Exec(context.Background(), `CREATE TABLE effects (id serial PRIMARY KEY, note text NOT NULL)`)
	require.NoError(t, err)
	handled := &atomic.Int32{}
	e := httpx.New(httpx.Options{
		Spec:   s,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticate: func(c echo.Context, _ *spec.Operation) (context.Context, error) {
			if c.Request().Header.Get("X-Api-Key") != "good" {
				return nil, apierror.New(apierror.Unauthenticated, "no credential")
			}
			return c.Request().Context(), nil
		},
		IdempotencyScope: func(context.Context) (string, string) { return "mer_test", "int_test" },
		Idempotency:      idempotency.NewStore(pool, time.Hour, time.Now),
	})
	e.POST("/topup/confirm", func(c echo.Context) error {
		handled.Add(1)
		ctx := c.Request().Context()
		err := dbx.InTx(ctx, pool, func(ctx context.Context, _ *db.Queries) error {
			tx, _ := dbx.Ambient(ctx)
			_, err := tx.Exec(ctx, `INSERT INTO effects (note) VALUES ('topup')`)
			return err
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"ok": true, "data": map[string]any{"n": handled.Load()}, "error": nil, "meta": httpx.MetaFor(ctx, s.APIVersion)})
	})
	e.GET("/payments/:id", func(c echo.Context) error { panic("handler bug") })
	e.GET("/health", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return bundle{url: ts.URL, pool: pool, handled: handled, handler: e}
}

const validTopup = `{"meta":{"api_version":"2026-06-01"},"data":{"wallet_id":"wal_01JZ3K4M5N6P7Q8R9S0T1V2W3X","amount_minor":5000,"currency":"EUR","provider":"adyen","settlement_reference":"ref-1"}}`

type envelope struct {
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Retryable bool           `json:"retryable"`
		Field     *string        `json:"field"`
		Details   map[string]any `json:"details"`
	} `json:"error"`
	Meta struct {
		APIVersion       string  `json:"api_version"`
		RequestID        string  `json:"request_id"`
		IdempotencyKey   *string `json:"idempotency_key"`
		IdempotentReplay bool    `json:"idempotent_replay"`
	} `json:"meta"`
}

type call struct {
	method, path, body string
	header             map[string]string
}

func (b bundle) do(t *testing.T, c call) (*http.Response, envelope) {
	t.Helper()
	req, err := http.NewRequest(c.method, b.url+c.path, strings.NewReader(c.body))
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", "good")
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var env envelope
	require.NoError(t, json.Unmarshal(raw, &env), "body: %s", raw)
	require.Equal(t, res.Header.Get("X-Request-Id"), env.Meta.RequestID)
	require.Equal(t, env.Error == nil, env.OK)
	return res, env
}

func topup(body string, key string) call {
	return call{method: http.MethodPost, path: "/topup/confirm", body: body, header: map[string]string{"Idempotency-Key": key}}
}

func requireError(t *testing.T, env envelope, res *http.Response, code apierror.Code) {
	t.Helper()
	require.NotNil(t, env.Error, "want %s", code)
	require.Equal(t, string(code), env.Error.Code, env.Error.Message)
	require.Equal(t, code.Status(), res.StatusCode)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.Equal(t, "2026-06-01", env.Meta.APIVersion)
}

func TestConventions(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("AcceptsAValidRequest", func(t *testing.T) {
		res, env := b.do(t, topup(validTopup, "ok-1"))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.True(t, env.OK)
		require.Equal(t, "ok-1", *env.Meta.IdempotencyKey)
		require.True(t, strings.HasPrefix(env.Meta.RequestID, "req_"))
	})

	cases := []struct {
		name  string
		call  call
		code  apierror.Code
		field string
	}{
		{"UnknownField", topup(strings.Replace(validTopup, `"currency":"EUR"`, `"currency":"EUR","tip_minor":5`, 1), "v1"), apierror.ValidationFailed, "/data/tip_minor"},
		{"UnknownTopLevelField", topup(strings.Replace(validTopup, `{"meta"`, `{"extra":1,"meta"`, 1), "v2"), apierror.ValidationFailed, "/extra"},
		{"WrongType", topup(strings.Replace(validTopup, `5000`, `"5000"`, 1), "v3"), apierror.ValidationFailed, "/data/amount_minor"},
		{"FloatAmount", topup(strings.Replace(validTopup, `5000`, `50.5`, 1), "v4"), apierror.ValidationFailed, "/data/amount_minor"},
		{"AmountAboveTheCeiling", topup(strings.Replace(validTopup, `5000`, `1000000000001`, 1), "v5"), apierror.ValidationFailed, "/data/amount_minor"},
		{"MissingField", topup(strings.Replace(validTopup, `"provider":"adyen",`, ``, 1), "v6"), apierror.ValidationFailed, "/data/provider"},
		{"BadPattern", topup(strings.Replace(validTopup, `"EUR"`, `"eur"`, 1), "v7"), apierror.ValidationFailed, "/data/currency"},
		{"MissingIdempotencyKey", topup(validTopup, ""), apierror.IdempotencyKeyRequired, "/header/Idempotency-Key"},
		{"UnservedAPIVersion", topup(strings.Replace(validTopup, "2026-06-01", "2025-01-01", 1), "v8"), apierror.UnsupportedAPIVersion, "/meta/api_version"},
		{"UnservedAPIVersionComesBeforeValidation", topup(strings.Replace(strings.Replace(validTopup, "2026-06-01", "2027-01-01", 1), `"currency":"EUR"`, `"currency":"EUR","new_in_2027":1`, 1), "v8b"), apierror.UnsupportedAPIVersion, "/meta/api_version"},
		{"VersionHeaderDisagreesWithMeta", call{method: http.MethodPost, path: "/topup/confirm", body: validTopup,
			header: map[string]string{"Idempotency-Key": "v8c", "Feddi-Api-Version": "2027-01-01"}}, apierror.ValidationFailed, "/header/Feddi-Api-Version"},
		{"UnservedAPIVersionHeaderOnGet", call{method: http.MethodGet, path: "/health", header: map[string]string{"Feddi-Api-Version": "2030-01-01"}}, apierror.UnsupportedAPIVersion, "/header/Feddi-Api-Version"},
		{"MalformedJSON", topup(`{"meta":`, "v9"), apierror.ValidationFailed, ""},
		{"EmptyBody", topup("", "v10"), apierror.ValidationFailed, ""},
		{"NotJSON", call{method: http.MethodPost, path: "/topup/confirm", body: validTopup, header: map[string]string{"Content-Type": "text/plain", "Idempotency-Key": "v11"}}, apierror.UnsupportedMediaType, ""},
		{"TooLarge", topup(`{"meta":{"api_version":"2026-06-01","client_request_id":"`+strings.Repeat("x", 70<<10)+`"}}`, "v12"), apierror.PayloadTooLarge, ""},
		{"UnknownQueryParameter", call{method: http.MethodGet, path: "/health?verbose=1"}, apierror.ValidationFailed, "/query/verbose"},
		{"NoCredential", call{method: http.MethodPost, path: "/topup/confirm", body: validTopup, header: map[string]string{"X-Api-Key": "", "Idempotency-Key": "v13"}}, apierror.Unauthenticated, ""},
		{"UnknownRoute", call{method: http.MethodGet, path: "/nowhere"}, apierror.NotFound, ""},
		{"WrongMethod", call{method: http.MethodDelete, path: "/topup/confirm"}, apierror.MethodNotAllowed, ""},
		{"Panic", call{method: http.MethodGet, path: "/payments/pay_01JZ3K4M5N6P7Q8R9S0T1V2W3X"}, apierror.InternalError, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.handled.Load()
			res, env := b.do(t, tc.call)
			requireError(t, env, res, tc.code)
			if tc.field != "" {
				require.NotNil(t, env.Error.Field, env.Error.Message)
				require.Equal(t, tc.field, *env.Error.Field, env.Error.Message)
			}
			require.NotContains(t, env.Error.Message, "5000", "messages never echo values")
			require.Equal(t, before, b.handled.Load(), "a refused request never reaches its handler")
		})
	}

	t.Run("KeepsAWellFormedClientRequestID", func(t *testing.T) {
		_, env := b.do(t, call{method: http.MethodGet, path: "/nowhere", header: map[string]string{"X-Request-Id": "req_client-123"}})
		require.Equal(t, "req_client-123", env.Meta.RequestID)
		_, env = b.do(t, call{method: http.MethodGet, path: "/nowhere", header: map[string]string{"X-Request-Id": "bad id!"}})
		require.NotEqual(t, "bad id!", env.Meta.RequestID)
	})
}

func TestIdempotencyOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res1, first := b.do(t, topup(validTopup, "idem-1"))
	require.Equal(t, http.StatusOK, res1.StatusCode)
	require.Empty(t, res1.Header.Get("Idempotent-Replayed"))

	res2, replay := b.do(t, topup(validTopup, "idem-1"))
	require.Equal(t, http.StatusOK, res2.StatusCode)
	require.Equal(t, "true", res2.Header.Get("Idempotent-Replayed"))
	require.True(t, replay.Meta.IdempotentReplay)
	require.JSONEq(t, string(first.Data), string(replay.Data))
	require.NotEqual(t, first.Meta.RequestID, replay.Meta.RequestID)

	res3, reused := b.do(t, topup(strings.Replace(validTopup, "ref-1", "ref-2", 1), "idem-1"))
	requireError(t, reused, res3, apierror.IdempotencyKeyReused)

	var effects int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM effects`).Scan(&effects))
	require.Equal(t, 1, effects)
	require.EqualValues(t, 1, b.handled.Load())
}
