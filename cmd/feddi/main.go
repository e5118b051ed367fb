// Command feddi is the one binary of the Feddi Partner API:
//
//	feddi serve      serve the API (DATABASE_URL, FEDDI_ADDR, FEDDI_ENV, ...)
//	feddi migrate    apply every pending migration and exit
//	feddi bootstrap  create a merchant, an integration and a first API key
//	feddi keys rotate-signing [--revoke-previous]
//	                 make a new JWT signing key current (and kill the old)
//	feddi keys rotate-kek
//	                 re-seal the signing keys with a new FEDDI_KEK
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

const usage = `usage: feddi <command>

commands:
  serve                  serve the API
  migrate                apply pending database migrations
  bootstrap              create a merchant, an integration and a first API key
  keys rotate-signing    make a new JWT signing key current
                         (--revoke-previous: kill the old ones at once)
  keys rotate-kek        re-seal the signing keys with a new FEDDI_KEK

Configuration comes from environment variables; see README.md.
`

func main() {
	os.Exit(exitCode())
}

func exitCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "feddi:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("missing command")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger := newLogger(cfg.LogLevel)
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger)
	case "migrate":
		return migrateCmd(ctx, cfg, logger)
	case "bootstrap":
		return bootstrapCmd(ctx, cfg, logger, args[1:])
	case "keys":
		return keysCmd(ctx, cfg, logger, args[1:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	// Lines logged with a request's or a job's context carry its trace_id.
	return slog.New(tracing.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})))
}

func connect(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	return connectTraced(ctx, cfg, nil)
}

// connectTraced connects; with tp, every statement is a span (otelpgx)
// carrying its SQL text, whose parameters are placeholders: argument
// values are never recorded.
func connectTraced(ctx context.Context, cfg config.Config, tp trace.TracerProvider) (*pgxpool.Pool, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return nil, err
	}
	poolCfg, err := dbx.ParsePoolConfig(cfg.DatabaseURL, cfg.DatabasePooler)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		// pgx defaults to max(4, cores) connections; requests spend most of
		// their time waiting on the database, so a 2-core replica serving
		// 32 clients measured 162 top-ups/s with 4 and 382/s with 16. More
		// is not better: every extra connection is one more PostgreSQL
		// backend competing for the same cores and wallet locks. With 32
		// clients on 2 cores, `make bench BENCH_ARGS="-pool N"` measured
		// top-ups (topup-spread) at 227-235/s with 8, 342-357/s with 16 and
		// 321-343/s with 32 (two runs each, interleaved); an earlier run
		// found 16 ahead of 32 by 15%. Hence 16, or 4 per core on a bigger
		// replica; behind PgBouncer, size it against the bouncer's pool.
		poolCfg.MaxConns = int32(max(16, 4*runtime.GOMAXPROCS(0)))
	}
	if tp != nil {
		poolCfg.ConnConfig.Tracer = tracing.SQLTracer(tp)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	return pool, nil
}

// connectForMigrations connects where migrations run: PostgreSQL itself
// (DATABASE_DIRECT_URL), never through a transaction pooler.
func connectForMigrations(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	url, err := cfg.MigrationURL()
	if err != nil {
		return nil, err
	}
	if url != cfg.DatabaseURL {
		cfg.DatabaseURL, cfg.DatabasePooler = url, config.NoPooler
	}
	return connect(ctx, cfg)
}
