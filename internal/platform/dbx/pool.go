package dbx

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/platform/config"
)

// ParsePoolConfig reads a connection string for the service's pool, for
// the pooler it goes through.
//
// Behind PgBouncer in transaction mode a client holds a server connection
// for one transaction only, and PgBouncer 1.18 (Debian 12) does not carry
// protocol-level prepared statements between them. pgx's default mode
// (cache_statement) prepares each statement once under a name on the
// server connection it happened to get, and later executes it by name on
// whichever server connection it gets then: "prepared statement does not
// exist", or "already exists" when two clients meet on one server. So
// behind PgBouncer the pool runs in cache_describe: pgx learns a
// statement's parameter and result types once (an unnamed Parse and
// Describe, one round trip that leaves nothing behind) and caches them on
// the client, then sends each execution as one self-contained message
// train (unnamed Parse, Bind, Execute, Sync) that needs nothing from an
// earlier round trip. That keeps one round trip per statement and binary
// parameters, like cache_statement. The alternatives: describe_exec
// executes the unnamed statement prepared in the round trip before, which
// PgBouncer may have sent to another server (wrong); exec and
// simple_protocol are correct but send text, guess parameter types from Go
// types and, for simple_protocol, interpolate on the client.
//
// A connection string naming cache_statement or describe_exec is refused
// behind PgBouncer; exec and simple_protocol are kept when named.
func ParsePoolConfig(connString string, pooler config.Pooler) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	if pooler != config.PgBouncer {
		return cfg, nil
	}
	named := strings.Contains(connString, "default_query_exec_mode")
	switch mode := cfg.ConnConfig.DefaultQueryExecMode; mode {
	case pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec:
		if named {
			return nil, fmt.Errorf("the connection string's default_query_exec_mode (%s) needs a server connection across round trips, which PgBouncer in transaction mode does not keep: use cache_describe (the default behind PgBouncer), exec or simple_protocol", mode)
		}
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	return cfg, nil
}
