package dbx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestAfterCommitRunsForCommittedWorkOnly: what a transaction registers
// runs after its commit, and never for work that rolled back, whole or in
// a savepoint.
func TestAfterCommitRunsForCommittedWorkOnly(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	var ran []string
	note := func(ctx context.Context, what string) { dbx.AfterCommit(ctx, func() { ran = append(ran, what) }) }
	failed := errors.New("failed")

	err := dbx.InTx(ctx, pool, func(ctx context.Context, _ *db.Queries) error {
		note(ctx, "outer")
		require.Empty(t, ran, "nothing runs before the commit")
		require.ErrorIs(t, dbx.InTx(ctx, pool, func(ctx context.Context, _ *db.Queries) error {
			note(ctx, "rolled-back savepoint")
			return failed
		}), failed)
		return dbx.InTx(ctx, pool, func(ctx context.Context, _ *db.Queries) error {
			note(ctx, "kept savepoint")
			return nil
		})
	})
	require.NoError(t, err)
	require.Equal(t, []string{"outer", "kept savepoint"}, ran)

	ran = nil
	require.ErrorIs(t, dbx.InTx(ctx, pool, func(ctx context.Context, _ *db.Queries) error {
		note(ctx, "rolled back")
		return failed
	}), failed)
	require.Empty(t, ran, "a rolled-back transaction runs nothing")

	note(ctx, "no transaction")
	require.Equal(t, []string{"no transaction"}, ran, "outside a transaction it runs at once")
}
