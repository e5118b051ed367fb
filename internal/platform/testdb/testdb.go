// Package testdb gives each test its own PostgreSQL database, cloned from a
// template migrated once per schema (pgtestdb), so packages and tests run in
// parallel without sharing state. DATABASE_URL names the server; `make test`
// starts a private one and sets it.
//
// FEDDI_TEST_PGBOUNCER_URL, when set, names a PgBouncer in transaction
// mode in front of that server (db/pgbouncer.sh, make test-pgbouncer): the
// databases are still created and migrated directly, and the pools and
// URLs the tests get go through the bouncer, in the mode the service runs
// in behind it (dbx.ParsePoolConfig).
//
// FEDDI_TEST_CITUS_URL, when set, names the coordinator of a Citus cluster
// (db/citus.sh, make test-citus) whose database feddi_template `feddi
// migrate` has prepared: each test gets a clone of it made on every node
// under one name (citus.go), as Citus itself does not copy a database to
// its workers.
package testdb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/migrate"
)

// New returns a pool on a fresh, migrated database dropped after the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := dbx.ParsePoolConfig(URL(t), Pooler())
	if err != nil {
		t.Fatalf("parsing test database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// URL returns the connection string of a fresh, migrated database: through
// PgBouncer (with the query mode the service uses there) when
// FEDDI_TEST_PGBOUNCER_URL is set.
func URL(t testing.TB) string {
	t.Helper()
	if coordinator := os.Getenv(citusEnv); coordinator != "" {
		return citusURL(t, coordinator)
	}
	conf := pgtestdb.Custom(t, adminConfig(t), migrator{})
	bouncer := os.Getenv(pgbouncerEnv)
	if bouncer == "" {
		return conf.URL()
	}
	u, err := url.Parse(bouncer)
	if err != nil {
		t.Fatalf("parsing %s: %v", pgbouncerEnv, err)
	}
	// Runs after the test's pools close and before pgtestdb drops the
	// database: PgBouncer keeps server connections to it open (and may
	// open one while pgtestdb terminates the others), so DROP DATABASE
	// would find it in use.
	console := *u
	t.Cleanup(func() { closeBouncerServers(t, console, conf.Database) })
	u.Path = "/" + conf.Database
	u.User = url.UserPassword(conf.User, conf.Password) // the test database's own role
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	q.Set("default_query_exec_mode", "cache_describe")
	u.RawQuery = q.Encode()
	return u.String()
}

const pgbouncerEnv = "FEDDI_TEST_PGBOUNCER_URL"

// Pooler is what the pools and URLs of this package go through: PgBouncer
// when FEDDI_TEST_PGBOUNCER_URL is set.
func Pooler() config.Pooler {
	if os.Getenv(pgbouncerEnv) != "" {
		return config.PgBouncer
	}
	return config.NoPooler
}

// DirectURL returns the connection string of PostgreSQL itself for the
// database pool is connected to, for the rare test that needs a session of
// its own (a superuser setting, a session lock) whatever pool goes through.
func DirectURL(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	conf := adminConfig(t)
	conf.Database = pool.Config().ConnConfig.Database
	return conf.URL()
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

// plainName is a database name the console takes as it is (pgtestdb's are).
var plainName = regexp.MustCompile(`^[a-z0-9_]+$`)

// closeBouncerServers closes every connection PgBouncer holds to database,
// through its admin console (the bouncer URL's user is an admin_user of
// db/pgbouncer.sh; the console speaks only the simple protocol).
func closeBouncerServers(t testing.TB, bouncer url.URL, database string) {
	t.Helper()
	bouncer.Path = "/pgbouncer"
	q := bouncer.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	bouncer.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, bouncer.String())
	if err != nil {
		t.Errorf("connecting to PgBouncer's console: %v", err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if !plainName.MatchString(database) {
		t.Errorf("%q is not a database name PgBouncer's console takes unquoted", database)
		return
	}
	if _, err := conn.Exec(ctx, "KILL "+database); err != nil {
		t.Errorf("closing PgBouncer's connections to %s: %v", database, err)
	}
}
