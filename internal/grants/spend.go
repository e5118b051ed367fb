package grants

import (
	"context"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
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
		out[i] = fromRow(db.Grant(r))
	}
	return out, nil
}

// Restore gives promo a closed or expired payment held back to its grants
// (a wallet the caller has locked): a grant still available or consumed and
// not expired at now takes its allocation back (consumed -> available,
// history reason "payment_closed"). What cannot go back, because its grant
// has meanwhile expired or been clawed back, is lapsed: the caller books
// it to the merchant's promo_expired account in the same txnID (hold promo
// -> wallet promo_available for restored, -> promo_expired for lapsed).
func Restore(ctx context.Context, q *db.Queries, w wallets.Wallet, as []Allocation, txnID string, now time.Time) (restored []Allocation, lapsed int64, err error) {
	if len(as) == 0 {
		return []Allocation{}, 0, nil
	}
	ids, amounts := split(as)
	rows, err := q.GrantRestore(ctx, db.GrantRestoreParams{Ids: ids, Amounts: amounts, MerchantID: w.MerchantID, WalletID: w.ID, Now: now, TransactionID: &txnID})
	if err != nil {
		return nil, 0, fmt.Errorf("restoring grants of %s: %w", w.ID, err)
	}
	back := make(map[string]bool, len(rows))
	for _, r := range rows {
		back[r.ID] = true
	}
	restored = []Allocation{}
	for _, a := range as {
		if back[a.GrantID] {
			restored = append(restored, a)
		} else {
			lapsed += a.Amount
		}
	}
	return restored, lapsed, nil
}

func split(as []Allocation) ([]string, []int64) {
	ids := make([]string, len(as))
	amounts := make([]int64, len(as))
	for i, a := range as {
		ids[i], amounts[i] = a.GrantID, a.Amount
	}
	return ids, amounts
}
