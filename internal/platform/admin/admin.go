// Package admin is the operators' listener (FEDDI_ADMIN_ADDR), apart from
// the public API so that the public route table stays exactly the
// document: /metrics (Prometheus), /livez, /readyz and /debug/pprof/.
package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feddi/partner-api/internal/platform/migrate"
)

// Readiness says whether a replica should get traffic: its database
// answers, the database's migrations are at the head the binary embeds,
// and it is not shutting down.
type Readiness struct {
	pool     *pgxpool.Pool
	draining atomic.Bool
}

// NewReadiness returns the readiness of a replica serving from pool.
func NewReadiness(pool *pgxpool.Pool) *Readiness { return &Readiness{pool: pool} }

// Drain turns readiness false for good: the first thing a replica does on
// SIGTERM, so the load balancer stops sending before the server drains.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Check is nil when the replica is ready, else why not.
func (r *Readiness) Check(ctx context.Context) error {
	if r.draining.Load() {
		return fmt.Errorf("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable")
	}
	applied, embedded, err := migrate.Versions(ctx, r.pool)
	if err != nil {
		return fmt.Errorf("migration version unknown (run feddi migrate)")
	}
	if applied < embedded {
		return fmt.Errorf("migrations behind: database at %d, binary expects %d (run feddi migrate)", applied, embedded)
	}
	return nil
}

// Handler serves /metrics from reg, /livez, /readyz from ready and
// /debug/pprof/.
func Handler(reg *prometheus.Registry, ready *Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.Check(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintln(w, "not ready:", err)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// Server returns the admin HTTP server over h.
func Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		// A CPU profile or an execution trace streams for its ?seconds=.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  time.Minute,
	}
}
