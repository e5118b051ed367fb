package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/ratelimit"
)

var (
	errGuess  = errors.New("a code nobody issued")
	errIssued = errors.New("a code that was issued, then used")
)

func isGuess(err error) bool { return errors.Is(err, errGuess) }

// clock is a settable clock shared by a test and its limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type bundle struct {
	limiter  *ratelimit.Limiter
	clock    *clock
	merchant string
}

func setup(t *testing.T, limits ratelimit.Limits) bundle {
	t.Helper()
	pool := testdb.New(t)
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	return bundle{limiter: ratelimit.New(pool, limits, c.now), clock: c, merchant: moneytest.NewTenant(t, pool).MerchantID}
}

func limits(terminal, key, merchant int) ratelimit.Limits {
	return ratelimit.Limits{
		PerTerminal: ratelimit.Rate{Max: terminal, Window: time.Minute},
		PerKey:      ratelimit.Rate{Max: key, Window: time.Minute},
		PerMerchant: ratelimit.Rate{Max: merchant, Window: time.Minute},
	}
}

// try runs one attempt that fails with outcome, and says whether it was
// evaluated.
func (b bundle) try(s ratelimit.Subject, outcome error) (evaluated bool, err error) {
	err = b.limiter.Guard(context.Background(), s, func(context.Context) error {
		evaluated = true
		return outcome
	}, isGuess)
	return evaluated, err
}

func TestGuard(t *testing.T) {
	t.Parallel()

	t.Run("RefusesTheGuessPastTheLimitWithRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setup(t, limits(3, 100, 1000))
		till := ratelimit.Subject{MerchantID: b.merchant, KeyID: "key_a", Terminal: "till-1"}
		for range 3 {
			evaluated, err := b.try(till, errGuess)
			require.True(t, evaluated)
			require.ErrorIs(t, err, errGuess)
		}
		evaluated, err := b.try(till, nil)
		require.False(t, evaluated, "a full bucket refuses before evaluating")
		var ex *ratelimit.Exceeded
		require.ErrorAs(t, err, &ex)
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		require.Equal(t, 20, ex.RetryAfterSeconds(), "one guess drains in window/max = 20 s")
		require.Equal(t, map[string]any{"retry_after_seconds": 20}, ex.Details())
	})

	t.Run("RefillsContinuouslyInsteadOfAtTheMinute", func(t *testing.T) {
		t.Parallel()
		b := setup(t, limits(3, 100, 1000))
		till := ratelimit.Subject{MerchantID: b.merchant, KeyID: "key_a", Terminal: "till-1"}
		for range 3 {
			_, _ = b.try(till, errGuess)
		}
		b.clock.advance(19 * time.Second)
		_, err := b.try(till, nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		b.clock.advance(time.Second)
		evaluated, err := b.try(till, errGuess)
		require.True(t, evaluated, "20 s later one guess has drained")
		require.ErrorIs(t, err, errGuess)
		_, err = b.try(till, nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited, "and only one")
	})

	t.Run("CountsOnlyGuesses", func(t *testing.T) {
		t.Parallel()
		b := setup(t, limits(2, 100, 1000))
		till := ratelimit.Subject{MerchantID: b.merchant, KeyID: "key_a", Terminal: "till-1"}
		for range 20 {
			_, err := b.try(till, errIssued)
			require.ErrorIs(t, err, errIssued)
			_, err = b.try(till, nil)
			require.NoError(t, err)
		}
	})

	t.Run("CountsPerTerminalWithACeilingPerKeyAndMerchant", func(t *testing.T) {
		t.Parallel()
		b := setup(t, limits(2, 5, 8))
		terminal := func(key, id string) ratelimit.Subject {
			return ratelimit.Subject{MerchantID: b.merchant, KeyID: key, Terminal: id}
		}
		for _, id := range []string{"till-1", "till-2"} {
			for range 2 {
				_, err := b.try(terminal("key_a", id), errGuess)
				require.ErrorIs(t, err, errGuess)
			}
		}
		_, err := b.try(terminal("key_a", "till-1"), nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited, "till-1 used its limit")
		_, err = b.try(terminal("key_a", "till-3"), errGuess)
		require.ErrorIs(t, err, errGuess, "a fresh terminal still has room under the key's ceiling")
		_, err = b.try(terminal("key_a", "till-4"), nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited, "new terminal ids meet the key's ceiling of 5")
		_, err = b.try(terminal("key_a", ""), nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited, "so does the key without a terminal")

		for _, id := range []string{"till-1", "till-2", "till-3"} {
			_, err := b.try(terminal("key_b", id), errGuess)
			require.ErrorIs(t, err, errGuess)
		}
		_, err = b.try(terminal("key_c", "till-1"), nil)
		require.ErrorIs(t, err, ratelimit.ErrLimited, "the merchant's ceiling of 8 holds across keys")
	})

	t.Run("ConcurrentGuessesOfOneTerminalNeverEvaluateMoreThanTheLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, limits(10, 1000, 1000))
		till := ratelimit.Subject{MerchantID: b.merchant, KeyID: "key_a", Terminal: "till-1"}
		var evaluated atomic.Int64
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				if e, _ := b.try(till, errGuess); e {
					evaluated.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(10), evaluated.Load())
	})
}
