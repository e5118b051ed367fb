package grants_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/grants"
)

// randomGrants makes a wallet's worth of grants in every state, some
// expired, with ties on expiry and on creation.
func randomGrants(r *rand.Rand, now time.Time) []grants.Grant {
	states := []grants.State{grants.StateAvailable, grants.StateAvailable, grants.StateLocked, grants.StateConsumed, grants.StateExpired, grants.StateClawedBack}
	n := r.IntN(8)
	out := make([]grants.Grant, n)
	for i := range out {
		st := states[r.IntN(len(states))]
		remaining := int64(0)
		if st.Live() {
			remaining = 1 + r.Int64N(1000)
		}
		out[i] = grants.Grant{
			ID:        fmt.Sprintf("grt_%02d", (i*37)%100), // unique, not in creation order
			State:     st,
			Original:  remaining + r.Int64N(100),
			Remaining: remaining,
			ExpiresAt: now.Add(time.Duration(r.IntN(5)-1) * time.Hour), // some already expired
			CreatedAt: now.Add(-time.Duration(r.IntN(3)) * time.Minute),
		}
	}
	return out
}

func TestAllocatePromoFirst(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 9, 42, 0, 0, time.UTC)

	t.Run("Properties", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(1, 2))
		for range 20_000 {
			gs := randomGrants(r, now)
			amount := r.Int64N(3000)
			out := grants.AllocatePromoFirst(gs, amount, now)

			var available int64
			usable := map[string]grants.Grant{}
			for _, g := range gs {
				if g.State == grants.StateAvailable && g.ExpiresAt.After(now) {
					available += g.Remaining
					usable[g.ID] = g
				}
			}
			// The total is min(amount, available promo).
			require.Equal(t, min(amount, available), grants.Total(out))
			taken := map[string]int64{}
			for _, a := range out {
				g, ok := usable[a.GrantID]
				require.True(t, ok, "never a locked, spent, dead or expired grant")
				require.Positive(t, a.Amount)
				taken[a.GrantID] += a.Amount
				require.LessOrEqual(t, taken[a.GrantID], g.Remaining, "never more than a grant holds")
			}
			// Earliest expiry first, then oldest: only the last allocation may
			// leave promo in its grant, and no skipped grant comes earlier.
			for i, a := range out {
				if i < len(out)-1 {
					require.Equal(t, usable[a.GrantID].Remaining, taken[a.GrantID], "a grant is emptied before the next is touched")
				}
			}
			if len(out) > 0 {
				last := usable[out[len(out)-1].GrantID]
				for id, g := range usable {
					if _, used := taken[id]; used {
						continue
					}
					before := g.ExpiresAt.Before(last.ExpiresAt) ||
						(g.ExpiresAt.Equal(last.ExpiresAt) && g.CreatedAt.Before(last.CreatedAt))
					require.False(t, before, "grant %s (expiring %s) skipped for %s (expiring %s)", id, g.ExpiresAt, last.ID, last.ExpiresAt)
				}
			}
		}
	})

	t.Run("EarliestExpiryThenOldest", func(t *testing.T) {
		t.Parallel()
		gs := []grants.Grant{
			{ID: "late", State: grants.StateAvailable, Remaining: 500, ExpiresAt: now.Add(48 * time.Hour), CreatedAt: now.Add(-3 * time.Hour)},
			{ID: "young", State: grants.StateAvailable, Remaining: 500, ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(-time.Hour)},
			{ID: "old", State: grants.StateAvailable, Remaining: 500, ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(-2 * time.Hour)},
			{ID: "locked", State: grants.StateLocked, Remaining: 500, ExpiresAt: now.Add(time.Minute), CreatedAt: now.Add(-9 * time.Hour)},
		}
		out := grants.AllocatePromoFirst(gs, 1200, now)
		require.Equal(t, []grants.Allocation{{"old", 500}, {"young", 500}, {"late", 200}}, out)
		require.True(t, slices.Equal(out, grants.AllocatePromoFirst(gs, 1200, now)), "deterministic")
	})
}
