package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cluster is the PostgreSQL cluster under test, reached through its
// maintenance connection.
type cluster struct {
	admin *pgxpool.Pool
	url   *url.URL
}

func openCluster(ctx context.Context, raw string) (*cluster, error) {
	if raw == "" {
		return nil, errors.New("no cluster: pass -pg or set DATABASE_URL (make bench does)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing the cluster URL: %w", err)
	}
	admin, err := pgxpool.New(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	c := &cluster{admin: admin, url: u}
	if err := c.check(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	return c, nil
}

// check refuses a cluster whose figures would mislead: without fsync a
// commit costs nothing, and without pg_stat_statements there are no
// statement counts.
func (c *cluster) check(ctx context.Context) error {
	var fsync, preload string
	if err := c.admin.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('shared_preload_libraries')").Scan(&fsync, &preload); err != nil {
		return fmt.Errorf("reading the cluster's settings: %w", err)
	}
	if fsync != "on" {
		return errors.New("the cluster runs with fsync off (FEDDI_PG_FAST?): commits cost nothing there, so its figures mean nothing; restart it without FEDDI_PG_FAST (make db/stop, then make bench)")
	}
	if !strings.Contains(preload, "pg_stat_statements") {
		return errors.New("the cluster does not preload pg_stat_statements: restart it (make db/stop, then make bench; db/devdb.sh loads it)")
	}
	return nil
}

// urlOf is the URL of another database of the cluster.
func (c *cluster) urlOf(db string) string {
	u := *c.url
	u.Path = "/" + db
	return u.String()
}

// withQuery sets one query parameter of a database URL.
func withQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// recreate drops the database if it exists and creates it empty.
func (c *cluster) recreate(ctx context.Context, db string) error {
	if err := c.drop(ctx, db); err != nil {
		return err
	}
	if _, err := c.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %s: %w", db, err)
	}
	return nil
}

func (c *cluster) drop(ctx context.Context, db string) error {
	if _, err := c.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", db, err)
	}
	return nil
}
