package topup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/wallets"
)

// Confirmation is a top-up the payment provider settled.
type Confirmation struct {
	MerchantID          string
	IntegrationID       string
	WalletID            string
	Amount              int64
	Currency            string
	Provider            string
	SettlementReference string
	Context             ledger.Context
}

// Confirm credits a settled top-up to the wallet's actual money (from the
// provider's clearing account) and accrues the reload bonus of the
// merchant's active tiers for the currency. A (provider, settlement
// reference) pair is credited once per merchant: a second confirmation is
// *SettlementReferenceUsedError naming the first transaction.
func (s *Service) Confirm(ctx context.Context, c Confirmation) (Result, error) {
	if err := wallets.CheckCurrency(c.Currency, FieldConfirmationCurrency); err != nil {
		return Result{}, err
	}
	res, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Result, error) {
		// The tiers are read before the wallet is locked: one round trip
		// less inside the lock every top-up of this wallet queues behind.
		cfg, err := currentConfig(ctx, q, c.MerchantID, c.Currency)
		if err != nil && !errors.Is(err, ErrConfigNotFound) {
			return Result{}, err
		}
		w, err := wallets.GetForUpdate(ctx, q, c.MerchantID, c.WalletID)
		if err != nil {
			return Result{}, err
		}
		if w.Currency != c.Currency {
			return Result{}, invalid(FieldConfirmationCurrency, "The wallet is in %s; confirm the top-up in %s.", w.Currency, w.Currency)
		}
		now := s.now()
		res, err := credit(ctx, q, w, credited{
			Type: ledger.TypeTopup, Amount: c.Amount, From: ledger.TopupClearing(c.MerchantID, c.Provider),
			IntegrationID: c.IntegrationID, Context: c.Context,
			References: ledger.References{Provider: c.Provider, SettlementReference: c.SettlementReference},
			Now:        now,
		}, func(txn ledger.Transaction, now time.Time) *grants.NewGrant {
			bonus := cfg.BonusFor(c.Amount)
			if bonus == 0 {
				return nil
			}
			return &grants.NewGrant{
				Source: grants.SourceReloadBonus, SourceRef: txn.ID, Amount: bonus,
				ExpiresAt: now.AddDate(0, 0, cfg.BonusExpiresInDays),
			}
		})
		if err != nil {
			return Result{}, err
		}
		// The result carries the integration's ledger transaction: only the
		// confirming integration sees the event, as only it reads the
		// transaction.
		return res, events.Record(ctx, q, events.Event{
			Type: events.TopupConfirmed, MerchantID: c.MerchantID, IntegrationID: c.IntegrationID, Object: res, At: now,
		})
	})
	if errors.Is(err, ledger.ErrDuplicateSettlement) {
		first, lookErr := ledger.TransactionBySettlement(ctx, dbx.Q(ctx, s.pool), c.MerchantID, c.Provider, c.SettlementReference)
		if lookErr != nil {
			return Result{}, fmt.Errorf("finding the first use of a settlement reference: %w", lookErr)
		}
		return Result{}, &SettlementReferenceUsedError{TransactionID: first}
	}
	return res, err
}

// credited is a credit of actual money to a locked wallet.
type credited struct {
	Type          ledger.Type
	Amount        int64
	From          ledger.Account
	IntegrationID string
	Context       ledger.Context
	References    ledger.References
	Now           time.Time // the service clock's time: expiry and bonus grants
}

// credit books a credit to a wallet the caller has locked, after expiring
// its due grants, then issues the bonus grant bonusOf asks for (nil: none)
// on the same lock.
func credit(ctx context.Context, q *db.Queries, w wallets.Wallet, c credited, bonusOf func(ledger.Transaction, time.Time) *grants.NewGrant) (Result, error) {
	if err := wallets.CheckCredit(w, c.Amount); err != nil {
		return Result{}, err
	}
	now := c.Now
	w, err := grants.ExpireDueForLockedWallet(ctx, q, w, now)
	if err != nil {
		return Result{}, err
	}
	txn, err := ledger.Post(ctx, q, ledger.Movement{
		MerchantID: w.MerchantID, IntegrationID: c.IntegrationID, Type: c.Type,
		WalletID: w.ID, Currency: w.Currency, Amount: c.Amount,
		Entries: []ledger.Entry{
			{Account: c.From, Amount: -c.Amount},
			{Account: ledger.WalletActual(w.ID), Amount: c.Amount},
		},
		References: c.References,
		Context:    c.Context,
	})
	if err != nil {
		return Result{}, err
	}
	res := Result{Transaction: txn, Wallet: w.WithBalance(txn.BalanceAfter)}
	moved := metrics.Money{Currency: w.Currency, Actual: c.Amount}
	n := bonusOf(txn, now)
	if n == nil {
		metrics.From(ctx).ToppedUp(ctx, moved)
		return res, nil
	}
	n.MerchantID, n.WalletID, n.IntegrationID, n.Context = w.MerchantID, w.ID, c.IntegrationID, c.Context
	g, gtxn, err := grants.IssueOnLockedWallet(ctx, q, res.Wallet, *n, now)
	if err != nil {
		return Result{}, err
	}
	res.BonusGrant, res.Wallet = &g, res.Wallet.WithBalance(gtxn.BalanceAfter)
	moved.Promo = g.Original
	metrics.From(ctx).ToppedUp(ctx, moved)
	return res, nil
}
