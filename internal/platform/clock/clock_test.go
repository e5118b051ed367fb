package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/clock"
)

func TestClock(t *testing.T) {
	t.Parallel()
	t.Run("ReadsTheWallClockUntilAdvanced", func(t *testing.T) {
		t.Parallel()
		c := clock.New()
		require.WithinDuration(t, time.Now(), c.Now(), time.Second)
	})
	t.Run("AdvancesByTheOffset", func(t *testing.T) {
		t.Parallel()
		c := clock.New()
		c.Advance(2 * time.Hour)
		require.WithinDuration(t, time.Now().Add(2*time.Hour), c.Now(), time.Second)
		require.Equal(t, 2*time.Hour, c.Offset())
	})
	t.Run("IsSafeForConcurrentUse", func(t *testing.T) {
		t.Parallel()
		c := clock.New()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				c.Advance(time.Second)
				_ = c.Now()
			})
		}
		wg.Wait()
		require.Equal(t, 8*time.Second, c.Offset())
	})
	t.Run("StandsStillWhenStoppedAndRunsOnFromThere", func(t *testing.T) {
		t.Parallel()
		c := clock.New()
		c.Stop()
		at := c.Now()
		time.Sleep(2 * time.Millisecond)
		require.Equal(t, at, c.Now())
		c.Advance(time.Minute)
		require.Equal(t, at.Add(time.Minute), c.Now())
		c.Start()
		require.WithinDuration(t, at.Add(time.Minute), c.Now(), time.Second)
		require.True(t, c.Now().After(at.Add(time.Minute)) || c.Now().Equal(at.Add(time.Minute)))
	})
	t.Run("OrWallDefaultsToTimeNow", func(t *testing.T) {
		t.Parallel()
		require.WithinDuration(t, time.Now(), clock.OrWall(nil)(), time.Second)
		fixed := time.Unix(0, 0)
		require.Equal(t, fixed, clock.OrWall(func() time.Time { return fixed })())
	})
}
