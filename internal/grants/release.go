package grants

import (
	"context"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/wallets"
)

// ReleaseLocked makes every locked live grant of a verified wallet
// available, in one promo_release transaction (promo_locked ->
// promo_available), and returns them with their history. Locked grants past
// their expiry at now expire instead. Nothing locked: nothing happens, no
// error, so it is safe to repeat. A wallet still pending_proof:
// wallets.ErrNotVerified.
//
// Enrollment calls wallets.MarkVerified and then ReleaseLocked on the same
// queries, so the flip and the release commit together or not at all.
func ReleaseLocked(ctx context.Context, q *db.Queries, r Release, now time.Time) ([]Grant, error) {
	w, err := wallets.GetForUpdate(ctx, q, r.MerchantID, r.WalletID)
	if err != nil {
		return nil, err
	}
	if w.Status != wallets.StatusVerified {
		return nil, wallets.ErrNotVerified
	}
	if w, err = ExpireDueForLockedWallet(ctx, q, w, now); err != nil {
		return nil, err
	}
	if w.Balance.PromoLocked == 0 {
		return []Grant{}, nil
	}
	live, err := ListLive(ctx, q, w.MerchantID, w.ID)
	if err != nil {
		return nil, err
	}
	var grantIDs []string
	var total int64
	for _, g := range live {
		if g.State == StateLocked {
			grantIDs = append(grantIDs, g.ID)
			total += g.Remaining
		}
	}
	if len(grantIDs) == 0 {
		return []Grant{}, nil
	}
	reason := r.Reason
	if reason == "" {
		reason = ReasonWalletVerified
	}
	txnID := ids.New(ids.Transaction)
	released, err := transition(ctx, q, move{
		MerchantID: w.MerchantID, GrantIDs: grantIDs, To: StateAvailable, KeepRemaining: true, Reason: reason, TransactionID: txnID,
	})
	if err != nil {
		return nil, err
	}
	ref := ledger.References{}
	if len(grantIDs) == 1 {
		ref.GrantID = grantIDs[0]
	}
	if _, err := ledger.Post(ctx, q, ledger.Movement{
		ID: txnID, MerchantID: w.MerchantID, IntegrationID: r.IntegrationID, Type: ledger.TypePromoRelease,
		WalletID: w.ID, Currency: w.Currency, Amount: total,
		Entries: []ledger.Entry{
			{Account: ledger.WalletPromoLocked(w.ID), Amount: -total},
			{Account: ledger.WalletPromoAvailable(w.ID), Amount: total},
		},
		References: ref,
		Context:    r.Context,
	}); err != nil {
		return nil, err
	}
	if released, err = withHistory(ctx, q, w.MerchantID, released); err != nil {
		return nil, err
	}
	return released, recordEvents(ctx, q, events.GrantReleased, released, now)
}
