package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/ratelimit"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	tn := moneytest.NewTenant(t, pool)
	l := ratelimit.New(pool)
	ctx := context.Background()
	limit := ratelimit.Limit{Bucket: "test", Max: 3, Window: time.Minute}

	t.Run("RefusesPastTheLimitUntilTheWindowEnds", func(t *testing.T) {
		for range 3 {
			require.NoError(t, l.Check(ctx, limit, tn.MerchantID, "terminal:a"))
			require.NoError(t, l.Hit(ctx, limit, tn.MerchantID, "terminal:a"))
		}
		err := l.Check(ctx, limit, tn.MerchantID, "terminal:a")
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		var ex *ratelimit.Exceeded
		require.ErrorAs(t, err, &ex)
		require.Positive(t, ex.RetryAfterSeconds())
		require.LessOrEqual(t, ex.RetryAfterSeconds(), 60)
		require.Equal(t, map[string]any{"retry_after_seconds": ex.RetryAfterSeconds()}, ex.Details())
	})

	t.Run("CountsPerSubjectAndBucket", func(t *testing.T) {
		require.NoError(t, l.Check(ctx, limit, tn.MerchantID, "terminal:b"))
		other := ratelimit.Limit{Bucket: "other", Max: 1, Window: time.Minute}
		require.NoError(t, l.Check(ctx, other, tn.MerchantID, "terminal:a"))
	})

	t.Run("AnOldWindowCountsNothing", func(t *testing.T) {
		for range 3 {
			require.NoError(t, l.Hit(ctx, limit, tn.MerchantID, "terminal:c"))
		}
		_, err := pool.Exec(ctx, `UPDATE rate_limits SET window_start = window_start - interval '1 minute' WHERE subject = 'terminal:c'`)
		require.NoError(t, err)
		require.NoError(t, l.Check(ctx, limit, tn.MerchantID, "terminal:c"))
		require.NoError(t, l.Hit(ctx, limit, tn.MerchantID, "terminal:c"))
		require.NoError(t, l.Check(ctx, limit, tn.MerchantID, "terminal:c"), "the new window starts at one hit")
	})
}
