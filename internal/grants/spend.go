package grants

import (
	"context"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/wallets"
)

// Spend takes promo from grants of a wallet the caller has locked, as
// AllocatePromoFirst decided: remaining falls, and a grant left with
// nothing becomes consumed (history reason "payment", transaction txnID).
// The caller then books txnID with ledger.Post (wallet promo_available ->
// the payment's hold). A grant that is not available fails the whole call.
func Spend(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, txnID string) ([]Grant, error) {
	if len(as) == 0 {
		return []Grant{}, nil
	}
	ids, amounts := split(as)
	rows, err := q.GrantSpend(ctx, db.GrantSpendParams{Ids: ids, Amounts: amounts, MerchantID: w.MerchantID, WalletID: w.ID, TransactionID: &txnID})
	if err != nil {
		return nil, fmt.Errorf("spending grants of %s: %w", w.ID, err)
	}
	if len(rows) != len(as) {
		return nil, fmt.Errorf("spending grants of %s: %d of %d allocations found an available grant", w.ID, len(rows), len(as))
	}
	out := make([]Grant, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// Returned is where promo a payment held went when it came back.
type Returned struct {
	// Restored went back to grants still live (wallet promo_available).
	Restored []Allocation
	// Expired lapsed because its grant expired meanwhile (promo_expired).
	Expired int64
	// ClawedBack lapsed because an operator clawed its grant back
	// meanwhile (promo_clawback).
	ClawedBack int64
}

// Restore gives promo a closed or expired payment held back to its grants
// (a wallet the caller has locked): a grant still available or consumed and
// not expired at now takes its allocation back (consumed -> available,
// history reason "payment_closed"). What cannot go back lapses with its
// grant, and the grant's history says so: a consumed grant past its expiry
// becomes expired then (reason "expired"), a grant already expired or
// clawed back records the lapse (reason "payment_closed"). The caller books
// all of it in the same txnID: hold promo -> wallet promo_available for
// Restored, -> promo_expired for Expired, -> promo_clawback for ClawedBack.
func Restore(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, txnID string, now time.Time) (Returned, error) {
	return giveBack(ctx, q, w, as, giveBackOf{txnID: txnID, now: now, reason: ReasonPaymentClosed})
}

// Refund gives promo a refunded payment had captured back to its grants
// (a wallet the caller has locked), exactly as Restore does for a closed
// payment, with history reason "payment_refunded": a live or consumed
// grant not expired at now takes it back (consumed -> available); the
// promo of a grant that has expired or was clawed back is forfeited
// (Returned.Expired, Returned.ClawedBack), and never revives it. The
// caller books all of it in txnID: promo_redeemed -> wallet promo_available
// for Restored, -> promo_expired or promo_clawback for the forfeited rest.
func Refund(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, txnID string, now time.Time) (Returned, error) {
	return giveBack(ctx, q, w, as, giveBackOf{txnID: txnID, now: now, reason: ReasonPaymentRefunded})
}

// giveBackOf is why and when promo comes back to grants.
type giveBackOf struct {
	txnID  string
	now    time.Time
	reason string
}

func giveBack(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, g giveBackOf) (Returned, error) {
	txnID, now := g.txnID, g.now
	out := Returned{Restored: []Allocation{}}
	if len(as) == 0 {
		return out, nil
	}
	ids, amounts := split(as)
	rows, err := q.GrantRestore(ctx, db.GrantRestoreParams{Ids: ids, Amounts: amounts, MerchantID: w.MerchantID, WalletID: w.ID, Now: now, TransactionID: &txnID, Reason: g.reason})
	if err != nil {
		return Returned{}, fmt.Errorf("restoring grants of %s: %w", w.ID, err)
	}
	back := make(map[string]bool, len(rows))
	for _, r := range rows {
		back[r.ID] = true
	}
	var lapsed []Allocation
	for _, a := range as {
		if back[a.GrantID] {
			out.Restored = append(out.Restored, a)
		} else {
			lapsed = append(lapsed, a)
		}
	}
	if err := lapse(ctx, q, w, lapsed, g, &out); err != nil {
		return Returned{}, err
	}
	return out, nil
}

// lapse records promo that came back to grants that can no longer take it,
// adding it to out by where it goes.
func lapse(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, g giveBackOf, out *Returned) error {
	if len(as) == 0 {
		return nil
	}
	ids, amounts := split(as)
	rows, err := q.GrantLapse(ctx, db.GrantLapseParams{Ids: ids, Amounts: amounts, MerchantID: w.MerchantID, WalletID: w.ID, TransactionID: &g.txnID, Reason: g.reason})
	if err != nil {
		return fmt.Errorf("recording lapsed promo of %s: %w", w.ID, err)
	}
	if len(rows) != len(as) {
		return fmt.Errorf("recording lapsed promo of %s: %d of %d grants found", w.ID, len(rows), len(as))
	}
	var expired []Grant
	for _, r := range rows {
		if State(r.State) == StateClawedBack {
			out.ClawedBack += r.AmountMinor
		} else {
			out.Expired += r.AmountMinor
		}
		if r.FromState != r.State { // a consumed grant expires now
			g, err := get(ctx, q, w.MerchantID, r.ID)
			if err != nil {
				return err
			}
			expired = append(expired, g)
		}
	}
	if expired, err = withHistory(ctx, q, w.MerchantID, expired); err != nil {
		return err
	}
	return recordEvents(ctx, q, events.GrantExpired, expired, g.now)
}

func split(as []Allocation) ([]string, []int64) {
	ids := make([]string, len(as))
	amounts := make([]int64, len(as))
	for i, a := range as {
		ids[i], amounts[i] = a.GrantID, a.Amount
	}
	return ids, amounts
}
