package grants

import (
	"context"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/wallets"
)

// Issue locks the wallet and issues a grant on it: promo_funding credits the
// wallet's locked or available promo in one promo_grant transaction. Its
// expiry must lie after now.
func Issue(ctx context.Context, q *db.Queries, n NewGrant, now time.Time) (Grant, ledger.Transaction, error) {
	w, err := wallets.GetForUpdate(ctx, q, n.MerchantID, n.WalletID)
	if err != nil {
		return Grant{}, ledger.Transaction{}, err
	}
	return IssueOnLockedWallet(ctx, q, w, n, now)
}

// IssueOnLockedWallet issues a grant on a wallet the caller has locked
// (wallets.GetForUpdate in the same transaction). The grant is locked when
// n.Locked says so or the wallet is pending_proof.
func IssueOnLockedWallet(ctx context.Context, q *db.Queries, w wallets.Wallet, n NewGrant, now time.Time) (Grant, ledger.Transaction, error) {
	switch {
	case n.Amount < 1 || n.Amount > money.MaxAmountMinor:
		return Grant{}, ledger.Transaction{}, fmt.Errorf("%w: amount %d", ErrInvalid, n.Amount)
	case !n.ExpiresAt.After(now):
		return Grant{}, ledger.Transaction{}, fmt.Errorf("%w: expires_at %s is not in the future", ErrInvalid, n.ExpiresAt)
	case n.Source != SourceWelcome && n.Source != SourceReloadBonus && n.Source != SourceSkuBonus:
		return Grant{}, ledger.Transaction{}, fmt.Errorf("%w: source %q", ErrInvalid, n.Source)
	case n.MerchantID != w.MerchantID || n.WalletID != w.ID:
		return Grant{}, ledger.Transaction{}, fmt.Errorf("%w: wallet %s is not the locked wallet %s", ErrInvalid, n.WalletID, w.ID)
	}
	state, account := StateAvailable, ledger.WalletPromoAvailable(w.ID)
	if n.Locked || w.Status != wallets.StatusVerified {
		state, account = StateLocked, ledger.WalletPromoLocked(w.ID)
	}
	txnID := ids.New(ids.Transaction)
	row, err := q.GrantInsert(ctx, db.GrantInsertParams{
		ID: ids.New(ids.Grant), MerchantID: w.MerchantID, IntegrationID: n.IntegrationID, WalletID: w.ID,
		CustomerID: w.CustomerID, Source: string(n.Source), SourceRef: dbx.NullString(n.SourceRef), Currency: w.Currency,
		AmountMinor: n.Amount, State: string(state), ExpiresAt: n.ExpiresAt, TransactionID: &txnID,
	})
	if err != nil {
		return Grant{}, ledger.Transaction{}, fmt.Errorf("issuing grant on %s: %w", w.ID, err)
	}
	g := fromRow(row)
	txn, err := ledger.Post(ctx, q, ledger.Movement{
		ID: txnID, MerchantID: w.MerchantID, IntegrationID: n.IntegrationID, Type: ledger.TypePromoGrant,
		WalletID: w.ID, Currency: w.Currency, Amount: n.Amount,
		Entries: []ledger.Entry{
			{Account: ledger.PromoFunding(w.MerchantID), Amount: -n.Amount},
			{Account: account, Amount: n.Amount},
		},
		References: ledger.References{GrantID: g.ID},
		Context:    n.Context,
	})
	if err != nil {
		return Grant{}, ledger.Transaction{}, err
	}
	g.History = []Event{{To: state, Reason: ReasonIssued, Amount: n.Amount, TransactionID: txnID, At: g.CreatedAt}}
	if err := recordEvents(ctx, q, events.GrantIssued, []Grant{g}, now); err != nil {
		return Grant{}, ledger.Transaction{}, err
	}
	return g, txn, nil
}
