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

// CurrentWallet reads a wallet with its due grants expired first, so the
// balance it shows is spendable. When nothing is due (the common case) it
// costs one read and takes no lock.
func CurrentWallet(ctx context.Context, q *db.Queries, merchantID, walletID string, now time.Time) (wallets.Wallet, error) {
	w, err := wallets.Get(ctx, q, merchantID, walletID)
	if err != nil || !w.ExpiryDue(now) {
		return w, err
	}
	return ExpireDue(ctx, q, merchantID, walletID, now)
}

// ExpireDue locks the wallet and expires its grants due at now.
func ExpireDue(ctx context.Context, q *db.Queries, merchantID, walletID string, now time.Time) (wallets.Wallet, error) {
	w, err := wallets.GetForUpdate(ctx, q, merchantID, walletID)
	if err != nil {
		return wallets.Wallet{}, err
	}
	return ExpireDueForLockedWallet(ctx, q, w, now)
}

// ExpireDueForLockedWallet expires the grants of a wallet the caller has
// locked that are due at now: each one's remaining promo leaves the wallet
// for the merchant's promo_expired account in its own promo_expiry
// transaction, booked to the integration that issued the grant. It returns
// the wallet as it is left. Nothing due (read from the wallet row): no
// statement at all.
func ExpireDueForLockedWallet(ctx context.Context, q *db.Queries, w wallets.Wallet, now time.Time) (wallets.Wallet, error) {
	if !w.ExpiryDue(now) {
		return w, nil
	}
	live, err := ListLive(ctx, q, w.MerchantID, w.ID)
	if err != nil {
		return w, err
	}
	for _, g := range live {
		if g.ExpiresAt.After(now) {
			break // spending order is expiry order
		}
		account := ledger.WalletPromoAvailable(w.ID)
		if g.State == StateLocked {
			account = ledger.WalletPromoLocked(w.ID)
		}
		txnID := ids.New(ids.Transaction)
		expired, err := transition(ctx, q, move{
			MerchantID: w.MerchantID, GrantIDs: []string{g.ID}, To: StateExpired, Reason: ReasonExpired, TransactionID: txnID,
		})
		if err != nil {
			return w, err
		}
		txn, err := ledger.Post(ctx, q, ledger.Movement{
			ID: txnID, MerchantID: w.MerchantID, IntegrationID: g.IntegrationID, Type: ledger.TypePromoExpiry,
			WalletID: w.ID, Currency: w.Currency, Amount: g.Remaining,
			Entries: []ledger.Entry{
				{Account: account, Amount: -g.Remaining},
				{Account: ledger.PromoExpired(w.MerchantID), Amount: g.Remaining},
			},
			References: ledger.References{GrantID: g.ID},
		})
		if err != nil {
			return w, err
		}
		w = w.WithBalance(txn.BalanceAfter)
		if expired, err = withHistory(ctx, q, w.MerchantID, expired); err != nil {
			return w, err
		}
		if err := recordEvents(ctx, q, events.GrantExpired, expired, now); err != nil {
			return w, err
		}
	}
	return w, nil
}
