package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/migrate"
)

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	pool, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	opts := app.Options{}
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
	logger.Info("serving the Feddi Partner API", "addr", ln.Addr().String(), "env", cfg.Env, "api_version", a.Spec.APIVersion)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests and jobs", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	httpErr := srv.Shutdown(shutdownCtx)
	jobsErr := a.StopJobs(shutdownCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(httpErr, jobsErr)
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
