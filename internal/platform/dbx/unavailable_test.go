package dbx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/dbx"
)

// TestIsUnavailable: what clients see as service_unavailable (retry with
// the same key) and what stays internal_error. The Citus cases are what a
// coordinator answered while a worker stopped (internal/loadtest's Citus
// chaos test).
func TestIsUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("posting payment on wallet wal_1: %w", err) }
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"a lost connection", &pgconn.PgError{Code: "08006", Message: "connection failure"}, true},
		{"a server shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"a Citus worker refusing connections", &pgconn.PgError{Code: "08006",
			Message: "connection to the remote node postgres@127.0.0.1:27330 failed with the following error: Connection refused"}, true},
		{"a Citus worker lost mid-transaction", &pgconn.PgError{Code: "XX000",
			Message: "failure on connection marked as essential: 127.0.0.1:27330"}, true},
		{"a Citus worker shutting down mid-statement", &pgconn.PgError{Code: "XX000",
			Message: "terminating connection due to administrator command"}, true},
		{"a Citus commit a worker did not confirm", &pgconn.PgError{Code: "XX000",
			Message: "could not commit transaction for shard 102103 on at least one active node"}, true},
		{"another internal error", &pgconn.PgError{Code: "XX000", Message: "could not find shard placement"}, false},
		{"a constraint", &pgconn.PgError{Code: "23514", Message: "new row violates check constraint"}, false},
		{"a cancelled request", context.Canceled, false},
		{"a plain error", errors.New("boom"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, dbx.IsUnavailable(wrap(c.err)))
		})
	}
}
