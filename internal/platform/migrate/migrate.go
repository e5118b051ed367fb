// Package migrate applies the goose migrations of db/migrations and River's
// own schema, so every database (make run, tests, production) has one shape.
package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/feddi/partner-api/db/migrations"
)

// Up applies every pending migration.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer func() { _ = sqlDB.Close() }()
	if err := gooseUp(ctx, sqlDB, logger); err != nil {
		return err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("preparing River migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("applying River migrations: %w", err)
	}
	for _, v := range res.Versions {
		logger.Info("applied River migration", "version", v.Version)
	}
	return distribute(ctx, pool, logger)
}

func gooseUp(ctx context.Context, sqlDB *sql.DB, logger *slog.Logger) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return fmt.Errorf("preparing migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("applied migration", "source", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// Hash identifies the schema the migrations produce; test templates are
// keyed by it.
func Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		_, _ = fmt.Fprintf(h, "%s\n%d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	_, _ = fmt.Fprintf(h, "river:%d\n", riverMigrationCount())
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func riverMigrationCount() int {
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return 0
	}
	return len(migrator.AllVersions())
}

// Versions says how far the database's goose migrations are: the newest
// version applied and the newest one embedded in the binary. A database
// never migrated is an error (no version table).
func Versions(ctx context.Context, pool *pgxpool.Pool) (applied, embedded int64, err error) {
	sqlDB := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer func() { _ = sqlDB.Close() }()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return 0, 0, fmt.Errorf("preparing migrations: %w", err)
	}
	applied, embedded, err = provider.GetVersions(ctx)
	if err != nil {
		return applied, embedded, fmt.Errorf("reading the applied migration version: %w", err)
	}
	return applied, embedded, nil
}
