// Package testdb gives each test its own PostgreSQL database, cloned from a
// template migrated once per schema (pgtestdb), so packages and tests run in
// parallel without sharing state. DATABASE_URL names the server; `make test`
// starts a private one and sets it.
package testdb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"

	"github.com/feddi/partner-api/internal/platform/migrate"
)

// New returns a pool on a fresh, migrated database dropped after the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	conf := pgtestdb.Custom(t, adminConfig(t), migrator{})
	pool, err := pgxpool.New(context.Background(), conf.URL())
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// URL returns the connection string of a fresh, migrated database.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, adminConfig(t), migrator{}).URL()
}

func adminConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	raw := os.Getenv("DATABASE_URL")
	if raw == "" {
		t.Fatalf("DATABASE_URL is not set: run the tests with `make test`, which starts a private PostgreSQL, or point DATABASE_URL at a server you may create databases on")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parsing DATABASE_URL: %v", err)
	}
	password, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	return pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      port,
		User:                      u.User.Username(),
		Password:                  password,
		Database:                  strings.TrimPrefix(u.Path, "/"),
		Options:                   q.Encode(),
		ForceTerminateConnections: true,
	}
}

type migrator struct{}

func (migrator) Hash() (string, error) { return migrate.Hash() }

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	pool, err := pgxpool.New(ctx, conf.URL())
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate.Up(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
