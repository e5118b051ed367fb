package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/wallets"
)

// RefundRequest refunds part or all of a captured payment.
type RefundRequest struct {
	MerchantID string
	// IntegrationID is the caller's integration: only the integration that
	// made a payment refunds it (see Service.Get).
	IntegrationID string
	PaymentID     string
	Amount        int64
	Reason        string
	Reference     string // "" when none
	// Context is recorded on the refund's ledger transaction.
	Context ledger.Context
}

// Refund is money a captured payment gave back to its wallet: actual money
// first, then promo to the grants it came from (PromoRefunded), except the
// promo of grants that died since (PromoForfeited), which is never revived.
type Refund struct {
	ID             string
	PaymentID      string
	TransactionID  string
	Amount         int64
	ActualRefunded int64
	PromoRefunded  int64
	PromoForfeited int64
	Reason         string
	Reference      string // "" when none
	BalanceAfter   ledger.Balance
	CreatedAt      time.Time
}

// Refunded is what the payment's refunds took back in all (forfeited promo
// included: it is refunded, just not to the wallet).
func (p Payment) Refunded() int64 { return p.ActualRefunded + p.PromoRefunded + p.PromoForfeited }

// Refundable is what is left to refund: captured and not yet refunded.
func (p Payment) Refundable() int64 { return p.Captured() - p.Refunded() }

// FieldRefundAmount is the amount of a RefundRequest.
const FieldRefundAmount fielderr.Field = "payments.RefundRequest.Amount"

var (
	// ErrRefundExceedsCaptured matches every RefundExceedsError.
	ErrRefundExceedsCaptured = errors.New("refund exceeds captured")
	// ErrRefundOverCeiling: the actual money the refund gives back would
	// take the wallet above the ceiling (amount_invalid).
	ErrRefundOverCeiling = &fielderr.Error{
		Input: fielderr.Input{Field: FieldRefundAmount},
		Msg:   fmt.Sprintf("The refund would take the wallet's actual money, with what its authorized payments hold, above %d minor units.", money.MaxAmountMinor),
	}
)

// RefundExceedsError: the refund asks for more than is left to refund.
type RefundExceedsError struct{ Refundable int64 }

func (e *RefundExceedsError) Error() string {
	return "The refund exceeds what is left of the captured amount."
}

// Is makes errors.Is(err, ErrRefundExceedsCaptured) hold.
func (e *RefundExceedsError) Is(target error) bool { return target == ErrRefundExceedsCaptured }

// Details carry what is left to refund.
func (e *RefundExceedsError) Details() map[string]any {
	return map[string]any{"refundable_minor": e.Refundable}
}

// InputField is the refund's amount.
func (e *RefundExceedsError) InputField() fielderr.Input {
	return fielderr.Input{Field: FieldRefundAmount}
}

// Refund refunds a captured payment the integration made (another
// integration's is ErrNotFound), in the caller's (the request's)
// transaction. The payment row is locked first (FOR UPDATE), so concurrent
// refunds of one payment queue and never together exceed what was
// captured; the database's payments_refund_within_captured CHECK holds the
// same rule.
func (s *Service) Refund(ctx context.Context, r RefundRequest) (Refund, error) {
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Refund, error) {
		p, err := get(ctx, q, r.MerchantID, r.PaymentID, true)
		if err != nil {
			return Refund{}, err
		}
		if err := p.ownedBy(r.IntegrationID); err != nil {
			return Refund{}, err
		}
		if p.Status != StatusCaptured {
			return Refund{}, &StateConflictError{Status: p.Status, Want: StatusCaptured}
		}
		if r.Amount > p.Refundable() {
			return Refund{}, &RefundExceedsError{Refundable: p.Refundable()}
		}
		return s.refund(ctx, q, p, r)
	})
}

// refund books one refund of a payment locked by the caller: one
// payment_refund transaction, the refund's row and the payment's refunded
// totals, and its payment.refunded event.
func (s *Service) refund(ctx context.Context, q *db.Queries, p Payment, r RefundRequest) (Refund, error) {
	w, err := wallets.GetForUpdate(ctx, q, p.MerchantID, p.WalletID)
	if err != nil {
		return Refund{}, err
	}
	now := s.now()
	if w, err = grants.ExpireDueForLockedWallet(ctx, q, w, now); err != nil {
		return Refund{}, err
	}
	actual := min(r.Amount, p.ActualCaptured-p.ActualRefunded)
	if err := wallets.CheckCredit(w, actual); err != nil {
		return Refund{}, ErrRefundOverCeiling
	}
	promo := r.Amount - actual
	txnID := ids.New(ids.Transaction)
	returned, err := grants.Refund(ctx, q, w, refundAllocations(p, promo), txnID, now)
	if err != nil {
		return Refund{}, err
	}
	if r.Context != (ledger.Context{}) {
		p.Context = r.Context
	}
	txn, err := ledger.Post(ctx, q, p.movement(txnID, ledger.TypePaymentRefund, r.Amount, refundEntries(p, actual, returned)))
	if err != nil {
		return Refund{}, err
	}
	rf := Refund{
		ID: ids.New(ids.Refund), PaymentID: p.ID, TransactionID: txnID, Amount: r.Amount,
		ActualRefunded: actual, PromoRefunded: grants.Total(returned.Restored), PromoForfeited: returned.Expired + returned.ClawedBack,
		Reason: r.Reason, Reference: r.Reference, BalanceAfter: txn.BalanceAfter,
	}
	if rf, err = recordRefund(ctx, q, p, rf, now); err != nil {
		return Refund{}, err
	}
	// payment.refunded carries the payment as the refund left it: its
	// refunded totals and every refund, this one included.
	after, err := get(ctx, q, p.MerchantID, p.ID, false)
	if err != nil {
		return Refund{}, err
	}
	return rf, events.Record(ctx, q, events.Event{
		Type: events.PaymentRefunded, MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, Object: after, At: now,
	})
}

// refundAllocations picks the promo a refund gives back, promo in all:
// from the allocations the capture took (the first ones: a partial
// capture gave the last ones back), less what earlier refunds gave back
// (from the newest), newest allocation first.
func refundAllocations(p Payment, promo int64) []grants.Allocation {
	left := p.PromoCaptured - p.PromoRefunded - p.PromoForfeited
	var kept []grants.Allocation
	for _, a := range p.Allocations {
		if left <= 0 {
			break
		}
		take := min(a.Amount, left)
		kept = append(kept, grants.Allocation{GrantID: a.GrantID, Amount: take})
		left -= take
	}
	return lastAllocatedFirst(kept, promo)
}

// refundEntries take the refund back from the merchant: actual from
// revenue to the wallet; promo from promo_redeemed to the wallet's
// available promo (restored to live grants), or, forfeited, to
// promo_expired (its grant expired) or promo_clawback (clawed back): the
// merchant keeps no redeemed promo for goods it took back, and the wallet
// gets no dead promo.
func refundEntries(p Payment, actual int64, promo grants.Returned) []ledger.Entry {
	return giveBackEntries(p, ledger.Revenue(p.MerchantID), ledger.PromoRedeemed(p.MerchantID), actual, promo)
}

// recordRefund stores the refund and adds it to the payment's totals.
func recordRefund(ctx context.Context, q *db.Queries, p Payment, rf Refund, now time.Time) (Refund, error) {
	b := rf.BalanceAfter
	if _, err := q.PaymentRecordRefund(ctx, db.PaymentRecordRefundParams{
		MerchantID: p.MerchantID, ID: p.ID,
		ActualRefundedMinor: rf.ActualRefunded, PromoRefundedMinor: rf.PromoRefunded, PromoForfeitedMinor: rf.PromoForfeited,
		ActualAfterMinor: b.Actual, PromoAvailableAfterMinor: b.PromoAvailable, PromoLockedAfterMinor: b.PromoLocked,
		NextPromoExpiryAfter: b.NextPromoExpiryAt,
	}); err != nil {
		return Refund{}, fmt.Errorf("recording refund of payment %s: %w", p.ID, err)
	}
	row, err := q.RefundInsert(ctx, db.RefundInsertParams{
		ID: rf.ID, MerchantID: p.MerchantID, PaymentID: p.ID, TransactionID: rf.TransactionID, AmountMinor: rf.Amount,
		ActualRefundedMinor: rf.ActualRefunded, PromoRefundedMinor: rf.PromoRefunded, PromoForfeitedMinor: rf.PromoForfeited,
		Reason: rf.Reason, Reference: dbx.NullString(rf.Reference),
		ActualAfterMinor: b.Actual, PromoAvailableAfterMinor: b.PromoAvailable, PromoLockedAfterMinor: b.PromoLocked,
		NextPromoExpiryAfter: b.NextPromoExpiryAt, Now: now,
	})
	if err != nil {
		return Refund{}, fmt.Errorf("storing refund of payment %s: %w", p.ID, err)
	}
	return refundFromRow(row, p.Currency), nil
}

// refunds reads a payment's refunds, oldest first.
func refunds(ctx context.Context, q *db.Queries, p Payment) ([]Refund, error) {
	rows, err := q.RefundListByPayment(ctx, db.RefundListByPaymentParams{MerchantID: p.MerchantID, PaymentID: p.ID})
	if err != nil {
		return nil, fmt.Errorf("reading refunds of payment %s: %w", p.ID, err)
	}
	out := make([]Refund, len(rows))
	for i, r := range rows {
		out[i] = refundFromRow(r, p.Currency)
	}
	return out, nil
}

func refundFromRow(r db.Refund, currency string) Refund {
	rf := Refund{
		ID: r.ID, PaymentID: r.PaymentID, TransactionID: r.TransactionID, Amount: r.AmountMinor,
		ActualRefunded: r.ActualRefundedMinor, PromoRefunded: r.PromoRefundedMinor, PromoForfeited: r.PromoForfeitedMinor,
		Reason: r.Reason, Reference: dbx.String(r.Reference),
		BalanceAfter: ledger.Balance{
			Currency: currency, Actual: r.ActualAfterMinor, PromoAvailable: r.PromoAvailableAfterMinor, PromoLocked: r.PromoLockedAfterMinor,
		},
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.NextPromoExpiryAfter != nil {
		t := r.NextPromoExpiryAfter.UTC()
		rf.BalanceAfter.NextPromoExpiryAt = &t
	}
	return rf
}
