package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

type bundle struct {
	pool  *pgxpool.Pool
	store *idempotency.Store
	clock *clock.Clock
}

func setup(t *testing.T) bundle {
	t.Helper()
	pool := testdb.New(t)
	_, err := pool.Exec(context.Background(), `CREATE TABLE effects (id serial PRIMARY KEY, note text NOT NULL)`)
	require.NoError(t, err)
	clk := clock.New()
	return bundle{pool: pool, store: idempotency.NewStore(pool, time.Hour, clk.Now), clock: clk}
}

func request(key string, body string) idempotency.Request {
	fp, err := idempotency.Fingerprint(http.MethodPost, "/topup/confirm", []byte(body))
	if err != nil {
		panic(err)
	}
	return idempotency.Request{MerchantID: "mer_A", Scope: "int_A", Key: key, OperationID: "confirmTopup", Fingerprint: fp}
}

// writeEffect inserts a row in the operation's transaction and answers status.
func writeEffect(_ *pgxpool.Pool, status int) func(ctx context.Context) (idempotency.Result, error) {
	return func(ctx context.Context) (idempotency.Result, error) {
		tx, ok := dbx.Ambient(ctx)
		if !ok {
			return idempotency.Result{}, errors.New("no ambient transaction")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO effects (note) VALUES ('x')`); err != nil {
			return idempotency.Result{}, err
		}
		return idempotency.Result{Status: status, Body: envelope(`{"n":1}`)}, nil
	}
}

func envelope(data string) []byte {
	return []byte(`{"ok":true,"data":` + data + `,"error":null,"meta":{"api_version":"2026-06-01","request_id":"req_1","idempotency_key":"k","idempotent_replay":false}}`)
}

func countEffects(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM effects`).Scan(&n))
	return n
}

func TestExecute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ReplaysTheFirstResultAndRunsOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first, replayed, err := b.store.Execute(ctx, request("k1", `{"a":1,"b":2}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.False(t, replayed)
		// The same request with its keys in another order is the same request.
		second, replayed, err := b.store.Execute(ctx, request("k1", `{ "b":2, "a":1 }`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, first.Status, second.Status)
		require.JSONEq(t, string(first.Body), string(second.Body))
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("StoresBusinessErrorsToo", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 409))
		require.NoError(t, err)
		res, replayed, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, 409, res.Status)
	})

	t.Run("RefusesTheKeyForADifferentRequest", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.Execute(ctx, request("k1", `{"amount":1}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		_, _, err = b.store.Execute(ctx, request("k1", `{"amount":2}`), writeEffect(b.pool, 200))
		require.ErrorIs(t, err, idempotency.ErrKeyReused)
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("KeysAreScopedToTheIntegration", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		other := request("k1", `{}`)
		other.Scope = "int_B"
		_, replayed, err := b.store.Execute(ctx, other, writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.False(t, replayed)
		require.Equal(t, 2, countEffects(t, b.pool))
	})

	t.Run("AnswersInProgressWhileTheFirstRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		started, release := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := b.store.Execute(ctx, request("k1", `{}`), func(ctx context.Context) (idempotency.Result, error) {
				close(started)
				<-release
				return writeEffect(b.pool, 200)(ctx)
			})
			require.NoError(t, err)
		}()
		<-started
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.ErrorIs(t, err, idempotency.ErrInProgress)
		close(release)
		wg.Wait()
		_, replayed, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("ManyConcurrentRetriesTakeEffectOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
				if err != nil {
					require.ErrorIs(t, err, idempotency.ErrInProgress)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("AFailedTransactionStoresNothingAndFreesTheKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		boom := errors.New("boom")
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), func(ctx context.Context) (idempotency.Result, error) {
			if _, err := writeEffect(b.pool, 200)(ctx); err != nil {
				return idempotency.Result{}, err
			}
			return idempotency.Result{}, boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, 0, countEffects(t, b.pool), "the effect must roll back with the failure")

		// A 5xx outcome is not stored either.
		res, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 500))
		require.NoError(t, err)
		require.Equal(t, 500, res.Status)
		require.Equal(t, 0, countEffects(t, b.pool))

		_, replayed, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.False(t, replayed, "the key must be usable again")
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("RetriesADeadlockedTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		attempts := 0
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), func(ctx context.Context) (idempotency.Result, error) {
			attempts++
			res, err := writeEffect(b.pool, 200)(ctx)
			if attempts == 1 {
				tx, _ := dbx.Ambient(ctx)
				_, err = tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40P01'; END $$`)
				return idempotency.Result{}, err
			}
			return res, err
		})
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
		require.Equal(t, 1, countEffects(t, b.pool))
	})

	t.Run("NeverStoresASecretForReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		secret := envelope(`{"key":{"id":"key_1"},"api_key":"fk_live_secret","secret_redacted":false}`)
		first, _, err := b.store.Execute(ctx, request("k1", `{}`), func(context.Context) (idempotency.Result, error) {
			return idempotency.Result{Status: 200, Body: secret}, nil
		})
		require.NoError(t, err)
		require.Contains(t, string(first.Body), "fk_live_secret", "the first answer shows the secret")

		var stored []byte
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT response_body FROM idempotency_keys`).Scan(&stored))
		require.NotContains(t, string(stored), "fk_live_secret")

		replay, replayed, err := b.store.Execute(ctx, request("k1", `{}`), nil)
		require.NoError(t, err)
		require.True(t, replayed)
		var env struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(replay.Body, &env))
		require.Nil(t, env.Data["api_key"])
		require.Equal(t, true, env.Data["secret_redacted"])
		require.Equal(t, map[string]any{"id": "key_1"}, env.Data["key"])
	})

	t.Run("ExpiredResultsArePurgedAndTheKeyFreed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		b.clock.Advance(time.Hour)
		_, replayed, err := b.store.Execute(ctx, request("k1", `{}`), writeEffect(b.pool, 200))
		require.NoError(t, err)
		require.False(t, replayed, "an expired result is not replayed")
		n, err := b.store.PurgeExpired(ctx, 100)
		require.NoError(t, err)
		require.Zero(t, n, "the new result is kept for its retention")
		b.clock.Advance(time.Hour)
		n, err = b.store.PurgeExpired(ctx, 100)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}

func TestMarkReplay(t *testing.T) {
	t.Parallel()
	out, err := idempotency.MarkReplay(envelope(`{"n":1}`), "req_2")
	require.NoError(t, err)
	var env struct {
		OK   bool           `json:"ok"`
		Data map[string]any `json:"data"`
		Meta map[string]any `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(out, &env))
	require.True(t, env.OK)
	require.Equal(t, "req_2", env.Meta["request_id"])
	require.Equal(t, true, env.Meta["idempotent_replay"])
	require.Equal(t, "k", env.Meta["idempotency_key"])
}
