package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Counters are the cumulative figures read before and after a measured
// window; their difference is the window's cost.
type Counters struct {
	// Statements is the calls pg_stat_statements counted in the bench
	// database: every statement the server sent, BEGIN and COMMIT included
	// (each is a round trip), River's own polling too.
	Statements int64
	// Commits is pg_stat_database.xact_commit of the bench database. A
	// backend publishes its counts at most once a second, so the figure
	// trails the load by up to a second; the warm-up runs the same load as
	// the window, so the trail at the window's start and at its end cancel
	// out, to within the noise.
	Commits int64
	// WALBytes is the cluster's WAL position: what the window wrote,
	// commit records and full-page images included.
	WALBytes int64
	// CPU is the server process's user plus system time.
	CPU time.Duration
}

// Sub is c minus an earlier reading.
func (c Counters) Sub(before Counters) Counters {
	return Counters{
		Statements: c.Statements - before.Statements,
		Commits:    c.Commits - before.Commits,
		WALBytes:   c.WALBytes - before.WALBytes,
		CPU:        c.CPU - before.CPU,
	}
}

// Probe reads the counters of one database and one server process.
type Probe struct {
	Pool *pgxpool.Pool // on the bench database, where pg_stat_statements is created
	PID  int
}

// Read reads the counters.
func (p Probe) Read(ctx context.Context) (Counters, error) {
	var c Counters
	err := p.Pool.QueryRow(ctx, `
SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
         WHERE dbid = d.oid AND query NOT LIKE '%pg_stat_statements%')::bigint,
       (SELECT xact_commit FROM pg_stat_database WHERE datid = d.oid),
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
  FROM pg_database d WHERE d.datname = current_database()`).Scan(&c.Statements, &c.Commits, &c.WALBytes)
	if err != nil {
		return Counters{}, fmt.Errorf("reading the database counters: %w", err)
	}
	if c.CPU, err = ProcessCPU(p.PID); err != nil {
		return Counters{}, err
	}
	return c, nil
}
