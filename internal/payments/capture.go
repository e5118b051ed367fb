package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/wallets"
)

// CaptureRequest captures (all, or Amount when set) or closes a payment.
type CaptureRequest struct {
	MerchantID string
	// IntegrationID is the caller's integration: only the integration that
	// made a payment captures or closes it (see Service.Get).
	IntegrationID string
	PaymentID     string
	Action        Action
	Amount        *int64
	// Context is recorded on the ledger transactions the call causes.
	Context ledger.Context
}

// Capture captures or closes an authorized payment the integration made;
// another integration's is ErrNotFound. What is
// not captured goes back to the wallet by reversing the allocation.
//
// A payment found past its authorization_expires_at (the sweeper has not
// reached it yet) is expired there and then, and the call answers a
// *StateConflictError saying so. The expiry commits although the call
// fails: it is the outcome of the transaction, not its error, so the
// request's transaction (the idempotency record's) keeps it.
func (s *Service) Capture(ctx context.Context, r CaptureRequest) (Payment, error) {
	if r.Action == ActionClose && r.Amount != nil {
		return Payment{}, ErrAmountWithClose
	}
	type outcome struct {
		payment  Payment
		conflict error
	}
	out, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (outcome, error) {
		p, err := get(ctx, q, r.MerchantID, r.PaymentID, true)
		if err != nil {
			return outcome{}, err
		}
		if err := p.ownedBy(r.IntegrationID); err != nil {
			return outcome{}, err
		}
		if p.Status != StatusAuthorized {
			return outcome{}, conflictOf(p)
		}
		if !s.now().Before(p.AuthorizationExpiresAt) {
			p, err := s.settle(ctx, q, p, 0, StatusExpired, ledger.TypePaymentExpiry)
			if err != nil {
				return outcome{}, err
			}
			return outcome{conflict: conflictOf(p)}, nil // commit the expiry, refuse the call
		}
		capture, status, release := p.Authorized(), StatusCaptured, ledger.TypePaymentRelease
		if r.Action == ActionClose {
			capture, status = 0, StatusClosed
		} else if r.Amount != nil {
			if *r.Amount > p.Authorized() {
				return outcome{}, &CaptureExceedsError{Authorized: p.Authorized()}
			}
			capture = *r.Amount
		}
		if r.Context != (ledger.Context{}) {
			p.Context = r.Context
		}
		p, err = s.settle(ctx, q, p, capture, status, release)
		return outcome{payment: p}, err
	})
	if err != nil {
		return Payment{}, err
	}
	if out.conflict != nil {
		return Payment{}, out.conflict
	}
	return out.payment, nil
}

// conflictOf is the refusal of a capture or close of a payment that is not
// authorized; an expired one says when its authorization expired.
func conflictOf(p Payment) *StateConflictError {
	e := &StateConflictError{Status: p.Status}
	if p.Status == StatusExpired {
		at := p.AuthorizationExpiresAt
		e.ExpiredAt = &at
	}
	return e
}

// settle ends an authorization locked by the caller: capture goes to the
// merchant, the rest back to the wallet (actual money first, then promo to
// the grants it came from, the last allocated first; promo whose grant has
// meanwhile expired lapses to promo_expired at once, and promo whose grant
// was clawed back to promo_clawback). The wallet's ceiling counts held
// money (wallets.CheckCredit), so the actual money coming back always fits.
func (s *Service) settle(ctx context.Context, q *db.Queries, p Payment, capture int64, status Status, releaseType ledger.Type) (Payment, error) {
	w, err := wallets.GetForUpdate(ctx, q, p.MerchantID, p.WalletID)
	if err != nil {
		return Payment{}, err
	}
	now := s.now()
	if w, err = grants.ExpireDueForLockedWallet(ctx, q, w, now); err != nil {
		return Payment{}, err
	}
	back := p.Authorized() - capture
	actualBack := min(back, p.ActualApplied)
	promoBack := back - actualBack
	p.Status, p.PromoCaptured, p.ActualCaptured = status, p.PromoApplied-promoBack, p.ActualApplied-actualBack
	p.BalanceAfter = w.Balance

	if capture > 0 {
		txn, err := ledger.Post(ctx, q, p.movement("", ledger.TypePaymentCapture, capture, captureEntries(p, p.PromoCaptured, p.ActualCaptured)))
		if err != nil {
			return Payment{}, err
		}
		p.BalanceAfter = txn.BalanceAfter
		metrics.From(ctx).PaymentCaptured(ctx, metrics.Money{Currency: p.Currency, Actual: p.ActualCaptured, Promo: p.PromoCaptured})
	}
	if back > 0 {
		txnID := ids.New(ids.Transaction)
		returned, err := grants.Restore(ctx, q, w, lastAllocatedFirst(p.Allocations, promoBack), txnID, now)
		if err != nil {
			return Payment{}, err
		}
		txn, err := ledger.Post(ctx, q, p.movement(txnID, releaseType, back, releaseEntries(p, actualBack, returned)))
		if err != nil {
			return Payment{}, err
		}
		p.BalanceAfter = txn.BalanceAfter
	}
	if p, err = settleRow(ctx, q, p); err != nil {
		return Payment{}, err
	}
	return p, recordEvent(ctx, q, p, now)
}

// lastAllocatedFirst picks promo to give back, amount in all, from the
// allocations taken last.
func lastAllocatedFirst(as []grants.Allocation, amount int64) []grants.Allocation {
	out := []grants.Allocation{}
	for i := len(as) - 1; i >= 0 && amount > 0; i-- {
		take := min(as[i].Amount, amount)
		out = append(out, grants.Allocation{GrantID: as[i].GrantID, Amount: take})
		amount -= take
	}
	return out
}

// releaseEntries return the hold: actual to the wallet, promo to the
// wallet's available promo (restored to live grants), to promo_expired
// (its grant expired) or to promo_clawback (its grant was clawed back).
func releaseEntries(p Payment, actual int64, promo grants.Returned) []ledger.Entry {
	return giveBackEntries(p, ledger.HoldActual(p.ID), ledger.HoldPromo(p.ID), actual, promo)
}

// giveBackEntries move money back to the wallet: actual from fromActual;
// promo from fromPromo to the wallet's available promo (Restored, to live
// grants), to promo_expired (Expired) or to promo_clawback (ClawedBack).
func giveBackEntries(p Payment, fromActual, fromPromo ledger.Account, actual int64, promo grants.Returned) []ledger.Entry {
	var es []ledger.Entry
	if actual > 0 {
		es = append(es,
			ledger.Entry{Account: fromActual, Amount: -actual},
			ledger.Entry{Account: ledger.WalletActual(p.WalletID), Amount: actual})
	}
	restored := grants.Total(promo.Restored)
	if back := restored + promo.Expired + promo.ClawedBack; back > 0 {
		es = append(es, ledger.Entry{Account: fromPromo, Amount: -back})
	}
	if restored > 0 {
		es = append(es, ledger.Entry{Account: ledger.WalletPromoAvailable(p.WalletID), Amount: restored})
	}
	if promo.Expired > 0 {
		es = append(es, ledger.Entry{Account: ledger.PromoExpired(p.MerchantID), Amount: promo.Expired})
	}
	if promo.ClawedBack > 0 {
		es = append(es, ledger.Entry{Account: ledger.PromoClawback(p.MerchantID), Amount: promo.ClawedBack})
	}
	return es
}

// ExpiryBackoff is how long the sweeper leaves a payment whose expiry
// failed before it tries again; it doubles with each further failure, up
// to MaxExpiryBackoff.
const (
	ExpiryBackoff    = time.Minute
	MaxExpiryBackoff = time.Hour
)

// expiryFailures counts failed payment expiries in this process.
var expiryFailures atomic.Int64

// ExpiryFailures is how many payment expiries failed in this process since
// it started (each is also logged as "payment expiry failed"): the figure
// a metric will export.
func ExpiryFailures() int64 { return expiryFailures.Load() }

// ExpireDue releases every authorization past its expiry and says how many
// it expired. Each payment goes in a transaction of its own, under its row
// lock, so a sweep holds one wallet lock at a time and a payment captured
// meanwhile is left alone. A payment whose expiry fails is logged, counted
// (ExpiryFailures) and left until its backoff passes (expiryBackoff), and
// the sweep goes on with the others: one broken payment never keeps the
// rest holding their customers' money.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	const batch = 100
	expired := 0
	seen := map[string]bool{}
	for {
		due, err := db.New(s.pool).PaymentListExpired(ctx, db.PaymentListExpiredParams{Now: s.now(), BatchSize: batch})
		if err != nil {
			return expired, fmt.Errorf("listing expired authorizations: %w", err)
		}
		progressed := false
		for _, d := range due {
			if seen[d.ID] {
				continue // its failure could not be recorded: not again this sweep
			}
			seen[d.ID], progressed = true, true
			if err := s.expire(ctx, d.MerchantID, d.ID); err != nil {
				if ctx.Err() != nil {
					return expired, ctx.Err()
				}
				s.expiryFailed(ctx, d, err)
				continue
			}
			expired++
		}
		if len(due) < batch || !progressed {
			return expired, nil
		}
	}
}

// expire releases one authorization past its expiry, in its own
// transaction; one settled meanwhile is left as it is.
func (s *Service) expire(ctx context.Context, merchantID, id string) error {
	return dbx.InTx(ctx, s.pool, func(ctx context.Context, q *db.Queries) error {
		p, err := get(ctx, q, merchantID, id, true)
		if err != nil || p.Status != StatusAuthorized {
			return err
		}
		_, err = s.settle(ctx, q, p, 0, StatusExpired, ledger.TypePaymentExpiry)
		return err
	})
}

// expiryFailed logs and counts a failed expiry and puts the payment off
// until its backoff has passed.
func (s *Service) expiryFailed(ctx context.Context, d db.PaymentListExpiredRow, cause error) {
	expiryFailures.Add(1)
	retryAt := s.now().Add(expiryBackoff(d.ExpiryAttempts))
	attempts, err := db.New(s.pool).PaymentExpiryFailed(ctx, db.PaymentExpiryFailedParams{
		MerchantID: d.MerchantID, ID: d.ID, RetryAt: &retryAt,
	})
	slog.ErrorContext(ctx, "payment expiry failed",
		"payment_id", d.ID, "merchant_id", d.MerchantID, "attempts", attempts, "retry_at", retryAt, "error", cause)
	if err = dbx.Interpret(err); err != nil && !errors.Is(err, dbx.ErrNotFound) { // not found: settled meanwhile
		slog.ErrorContext(ctx, "recording a failed payment expiry", "payment_id", d.ID, "error", err)
	}
}

// expiryBackoff is the wait before the next try of an expiry that failed
// after attempts earlier failures: ExpiryBackoff doubled per failure, at
// most MaxExpiryBackoff.
func expiryBackoff(attempts int32) time.Duration {
	d := ExpiryBackoff
	for range attempts {
		if d >= MaxExpiryBackoff/2 {
			return MaxExpiryBackoff
		}
		d *= 2
	}
	return d
}
