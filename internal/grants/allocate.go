package grants

import (
	"cmp"
	"slices"
	"time"
)

// AllocatePromoFirst decides which grants a payment of amount takes promo
// from: only available grants with promo left and not expired at now,
// earliest expiry first, then oldest (then id, so the order is total). The
// allocations never exceed a grant's remaining, and their total is
// min(amount, available promo); the rest of the amount is the payment's
// actual money. Pure: the caller holds the wallet lock and books the result
// with Spend and ledger.Post.
func AllocatePromoFirst(gs []Grant, amount int64, now time.Time) []Allocation {
	usable := make([]Grant, 0, len(gs))
	for _, g := range gs {
		if g.State == StateAvailable && g.Remaining > 0 && g.ExpiresAt.After(now) {
			usable = append(usable, g)
		}
	}
	slices.SortStableFunc(usable, func(a, b Grant) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	out := []Allocation{}
	for _, g := range usable {
		if amount <= 0 {
			break
		}
		take := min(g.Remaining, amount)
		out = append(out, Allocation{GrantID: g.ID, Amount: take})
		amount -= take
	}
	return out
}

// Total is the promo the allocations move.
func Total(as []Allocation) int64 {
	var t int64
	for _, a := range as {
		t += a.Amount
	}
	return t
}
