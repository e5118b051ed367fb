// Package apptest starts the real service over HTTP on a fresh database for
// end-to-end tests, with every response validated against the document: a
// response that does not conform fails the test that caused it.
package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/platform/admin"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

// Server is a running instance of the service.
type Server struct {
	URL    string
	App    *app.App
	Pool   *pgxpool.Pool
	Client *client.ClientWithResponses
	// Clock is the server's clock: a test moves time with
	// s.Clock.Advance(d) instead of rewriting timestamps in the database.
	// A test that advances it must own the server.
	Clock *clock.Clock
	// AdminURL serves the admin listener's routes (/metrics, /livez,
	// /readyz, /debug/pprof/) on a port of its own: servers of one test
	// never share one, so they never fight over the default port.
	AdminURL string
	// Ready is the server's readiness (Drain turns it false).
	Ready *admin.Readiness
}

// Tests that call the domains without a server (package tests of auth,
// grants, enrollment, and the fixtures of moneytest) record events too: the
// renderer app.New installs is installed as soon as this package is used.
func init() {
	doc, err := app.LoadSpec()
	if err != nil {
		panic(err)
	}
	app.UseEventRenderer(doc)
}

// lookup resolves webhook hosts without DNS: *.example.com is a public
// address (the document's examples), *.internal.test a private one, and
// anything else does not resolve.
func lookup(_ context.Context, host string) ([]netip.Addr, error) {
	switch {
	case strings.HasSuffix(host, ".example.com"):
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	case strings.HasSuffix(host, ".internal.test"):
		return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return nil, fmt.Errorf("no such host")
}

// Option changes the configuration of a test server.
type Option func(*config.Config)

// KEK is the key-encryption key every test server seals its signing keys
// with, so a test can open them the way an attacker holding the database and
// the KEK would. Not a secret: tests only.
var KEK = []byte("apptest-kek-32-bytes-not-secret!")

// Live runs the server in the live environment.
func Live() Option { return func(c *config.Config) { c.Env = config.Live } }

// Start runs the service on a fresh database.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return StartOn(t, testdb.New(t), opts...)
}

// StartOn runs another instance of the service on pool's database, as a
// second replica would.
func StartOn(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Server {
	t.Helper()
	return start(t, pool, nil, opts...)
}

// StartWithTracer runs the service on a fresh database with its requests,
// SQL statements and jobs traced through tp (an SDK provider over
// tracetest's in-memory exporter, in tests).
func StartWithTracer(t testing.TB, tp trace.TracerProvider, opts ...Option) *Server {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatalf("parsing test database URL: %v", err)
	}
	cfg.ConnConfig.Tracer = tracing.SQLTracer(tp)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return start(t, pool, tp, opts...)
}

func start(t testing.TB, pool *pgxpool.Pool, tp trace.TracerProvider, opts ...Option) *Server {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.KEK = KEK
	cfg.DatabasePooler = testdb.Pooler()
	for _, o := range opts {
		o(&cfg)
	}
	c := clock.New()
	a, err := app.New(ctx, cfg, pool, logger(), app.Options{CheckResponse: failOnProblem(t), Now: c.Now, WebhookLookup: lookup, TracerProvider: tp})
	if err != nil {
		t.Fatalf("assembling the service: %v", err)
	}
	if err := a.Prepare(ctx); err != nil {
		t.Fatalf("preparing the service: %v", err)
	}
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(ts.Close)
	cl, err := client.NewClientWithResponses(ts.URL, client.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	ready := admin.NewReadiness(pool)
	adminServer := httptest.NewServer(admin.Handler(a.Metrics.Registry, ready))
	t.Cleanup(adminServer.Close)
	return &Server{URL: ts.URL, App: a, Pool: pool, Client: cl, Clock: c, AdminURL: adminServer.URL, Ready: ready}
}

// StartJobs works background jobs until the test ends.
func (s *Server) StartJobs(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.App.StartJobs(ctx); err != nil {
		t.Fatalf("starting jobs: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = s.App.StopJobs(context.Background())
	})
}

// Do sends a raw request, for the tests of conventions the generated client
// cannot express (unknown fields, wrong types, malformed JSON).
func (s *Server) Do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

func failOnProblem(t testing.TB) func(httpx.ResponseCheck) {
	return func(c httpx.ResponseCheck) {
		if c.Problem != nil {
			t.Errorf("response breaks the OpenAPI document: %v", c.Problem)
		}
		recordCode(c)
	}
}

// recordCode appends "operationId code" to the file FEDDI_TEST_CODES names,
// for the report of which documented error codes the tests provoke
// (make codes).
func recordCode(c httpx.ResponseCheck) {
	path := os.Getenv("FEDDI_TEST_CODES")
	if path == "" || c.Operation == nil || c.Code == "" {
		return
	}
	codesMu.Lock()
	defer codesMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	_, _ = fmt.Fprintf(f, "%s %s\n", c.Operation.ID, c.Code)
}

var codesMu sync.Mutex

func logger() *slog.Logger {
	if os.Getenv("FEDDI_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// StatementLog records the names of the statements a server sends (its
// sqlc query names, or the first word of other SQL) while it is on: the
// statement budget of a request, which tests hold down. Statements sent off
// the request path (offRequestPath) are left out: when they land inside a
// recording depends only on the scheduler.
type StatementLog struct {
	mu   sync.Mutex
	on   bool
	sqls []string
}

// TraceQueryStart records one statement.
func (l *StatementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(d.SQL), "-- name: "), " ")
		if !offRequestPath[name] {
			l.sqls = append(l.sqls, name)
		}
	}
	return ctx
}

// offRequestPath names the statements a server sends in the background of a
// request: ApiKeyTouch records a key's last use after the response (see
// auth.Service.touch).
var offRequestPath = map[string]bool{"ApiKeyTouch": true}

// TraceQueryEnd is part of pgx.QueryTracer.
func (l *StatementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Record returns the statements sent while fn ran.
func (l *StatementLog) Record(fn func()) []string {
	l.mu.Lock()
	l.on, l.sqls = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.sqls
}

// StartTraced runs the service on a fresh database, with every statement
// it sends going through the returned log.
func StartTraced(t testing.TB, opts ...Option) (*Server, *StatementLog) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatalf("parsing test database URL: %v", err)
	}
	log := &StatementLog{}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return StartOn(t, pool, opts...), log
}
