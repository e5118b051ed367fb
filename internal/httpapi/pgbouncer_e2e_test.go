package httpapi_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestBehindPgBouncer runs under make test-pgbouncer, where every test's
// pool goes through PgBouncer in transaction mode (db/pgbouncer.sh): it
// proves that setup would catch a service relying on session state, and
// that the service keeps none. Two replicas, each with a pool of its own,
// take turns on one database: PgBouncer hands a client the idle server
// connection used last, so the second replica's statements land on the
// session the first one left behind.
func TestBehindPgBouncer(t *testing.T) {
	if testdb.Pooler() != config.PgBouncer {
		t.Skip("FEDDI_TEST_PGBOUNCER_URL is not set: make test-pgbouncer runs this")
	}
	t.Parallel()
	ctx := context.Background()

	// replicaPool is one replica's pool on url, in mode, with one
	// connection: its turns are sequential.
	replicaPool := func(t *testing.T, url string, mode pgx.QueryExecMode) *pgxpool.Pool {
		t.Helper()
		cfg, err := dbx.ParsePoolConfig(url, config.PgBouncer)
		require.NoError(t, err)
		cfg.ConnConfig.DefaultQueryExecMode = mode
		cfg.MaxConns = 1
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return pool
	}

	t.Run("ClientsShareServerSessions", func(t *testing.T) {
		url := testdb.URL(t)
		one := replicaPool(t, url, pgx.QueryExecModeCacheDescribe)
		two := replicaPool(t, url, pgx.QueryExecModeCacheDescribe)
		var a, b int
		require.NoError(t, one.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&a))
		require.NoError(t, two.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&b))
		require.Equal(t, a, b, "two clients, one after the other, on one server session: this is transaction pooling")
	})

	// The planted defect: pgx's default mode names its prepared statements
	// on the server session; the second replica finds the first one's
	// there. The service's own setup (Prepare) fails on it.
	t.Run("NamedPreparedStatementsFail", func(t *testing.T) {
		url := testdb.URL(t)
		first := apptest.StartOn(t, replicaPool(t, url, pgx.QueryExecModeCacheStatement))
		require.NotNil(t, first)
		cfg := config.Defaults()
		cfg.KEK = apptest.KEK
		cfg.DatabasePooler = config.PgBouncer
		second, err := app.New(ctx, cfg, replicaPool(t, url, pgx.QueryExecModeCacheStatement), first.App.Logger, app.Options{})
		require.NoError(t, err)
		err = second.Prepare(ctx)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "a session's prepared statement met another client: %v", err)
		require.Equal(t, "42P05", pgErr.Code, "duplicate_prepared_statement: %v", err)
	})

	// The service's mode: the same turns, then money moved through both
	// replicas at once, every request a typed response (apptest checks
	// each against the document) and the ledger whole.
	t.Run("TheServiceKeepsNoSessionState", func(t *testing.T) {
		url := testdb.URL(t)
		newPool := func() *pgxpool.Pool {
			cfg, err := dbx.ParsePoolConfig(url, config.PgBouncer)
			require.NoError(t, err)
			require.Equal(t, pgx.QueryExecModeCacheDescribe, cfg.ConnConfig.DefaultQueryExecMode)
			cfg.MaxConns = 4
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			return pool
		}
		one := moneytest.On(t, apptest.StartOn(t, newPool()), "Bounced Merchant")
		second := apptest.StartOn(t, newPool())
		two := &moneytest.Env{Ctx: one.Ctx, S: second, C: second.Client, Boot: one.Boot, Admin: one.Admin, Tenant: one.Tenant}
		one.S.StartJobs(t)
		two.S.StartJobs(t)
		w := moneytest.Wallet(t, one.S.Pool, one.Tenant, moneytest.WalletOpts{})

		const perReplica = 20
		var wg sync.WaitGroup
		for _, e := range []*moneytest.Env{one, two} {
			for range perReplica {
				wg.Go(func() {
					if res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100}); res.StatusCode() != 200 {
						t.Errorf("top-up answered %d: %s", res.StatusCode(), res.Body)
					}
				})
			}
		}
		wg.Wait()
		var balance int64
		require.NoError(t, one.S.Pool.QueryRow(ctx,
			`SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE account = 'wallet:' || $1::text || ':actual'`, w.ID).Scan(&balance))
		require.Equal(t, int64(2*perReplica*100), balance)
		moneytest.CheckLedger(t, one.S.Pool)
	})
}
