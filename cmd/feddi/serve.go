package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/platform/admin"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/migrate"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	return serveWith(ctx, cfg, logger, func(listening) {})
}

// listening is where a replica serves: the public API and the admin
// listener (nil when FEDDI_ADMIN_ADDR is empty).
type listening struct {
	public, admin net.Addr
}

// serveWith serves until ctx ends, telling started where it listens (tests
// bind port 0). On the end of ctx (SIGTERM) the replica turns not ready
// first, then drains requests and jobs; the admin listener goes last.
func serveWith(ctx context.Context, cfg config.Config, logger *slog.Logger, started func(listening)) error {
	tp, err := tracing.FromEnv(ctx, version())
	if err != nil {
		return err
	}
	opts := app.Options{} // no TracerProvider: tracing off
	if tp != nil {
		opts.TracerProvider = tp
		defer func() {
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(flushCtx); err != nil {
				logger.Warn("flushing traces", "error", err)
			}
		}()
		logger.Info("tracing on: spans go to the OTLP endpoint of OTEL_EXPORTER_OTLP_*")
	}
	pool, err := connectTraced(ctx, cfg, opts.TracerProvider)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.ValidateResponses {
		opts.CheckResponse = app.LogResponseProblems(logger)
	}
	a, err := app.New(ctx, cfg, pool, logger, opts)
	if err != nil {
		return err
	}
	if err := a.Prepare(ctx); err != nil {
		return err
	}
	// Bind before starting the River client: a replica that cannot serve
	// (the port is taken) must not run jobs either.
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	defer func() { _ = ln.Close() }() // Serve closes it too; this covers the early returns
	ready := admin.NewReadiness(pool)
	where := listening{public: ln.Addr()}
	var adminSrv *http.Server
	adminErrc := make(chan error, 1)
	if cfg.AdminAddr != "" {
		adminLn, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.AdminAddr)
		if err != nil {
			return fmt.Errorf("listening on %s (FEDDI_ADMIN_ADDR): %w", cfg.AdminAddr, err)
		}
		defer func() { _ = adminLn.Close() }()
		where.admin = adminLn.Addr()
		adminSrv = admin.Server(admin.Handler(a.Metrics.Registry, ready))
		go func() { adminErrc <- adminSrv.Serve(adminLn) }()
	}
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if err := a.StartJobs(jobsCtx); err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	attrs := []any{"addr", where.public.String(), "env", cfg.Env, "api_version", a.Spec.APIVersion}
	if where.admin != nil {
		attrs = append(attrs, "admin_addr", where.admin.String())
	}
	logger.Info("serving the Feddi Partner API", attrs...)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	started(where)

	select {
	case err := <-errc:
		return err
	case err := <-adminErrc:
		return fmt.Errorf("admin listener: %w", err)
	case <-ctx.Done():
	}
	// Not ready first, so a load balancer polling /readyz stops sending.
	ready.Drain()
	logger.Info("shutting down: not ready; draining requests and jobs", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	httpErr := srv.Shutdown(shutdownCtx)
	jobsErr := a.StopJobs(shutdownCtx)
	var adminErr error
	if adminSrv != nil {
		adminErr = adminSrv.Shutdown(shutdownCtx)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(httpErr, jobsErr, adminErr)
}

// version is the module version the binary was built from ("(devel)" for
// a build from a checkout).
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.Main.Version
	}
	return "unknown"
}

func migrateCmd(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	pool, err := connectForMigrations(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrate.Up(ctx, pool, logger); err != nil {
		return err
	}
	logger.Info("database is up to date")
	return nil
}
