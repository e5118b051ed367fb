package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// insert stores a new payment with its allocations; its authorization
// expires AuthorizationTTL after now.
func insert(ctx context.Context, q *db.Queries, p Payment, now time.Time) (Payment, error) {
	grantIDs := make([]string, len(p.Allocations))
	amounts := make([]int64, len(p.Allocations))
	for i, a := range p.Allocations {
		grantIDs[i], amounts[i] = a.GrantID, a.Amount
	}
	row, err := q.PaymentInsert(ctx, db.PaymentInsertParams{
		ID:                       p.ID,
		MerchantID:               p.MerchantID,
		IntegrationID:            p.IntegrationID,
		WalletID:                 p.WalletID,
		CustomerID:               p.CustomerID,
		Currency:                 p.Currency,
		AmountMinor:              p.Amount,
		PromoAppliedMinor:        p.PromoApplied,
		ActualAppliedMinor:       p.ActualApplied,
		PromoCapturedMinor:       p.PromoCaptured,
		ActualCapturedMinor:      p.ActualCaptured,
		Status:                   string(p.Status),
		CaptureMode:              string(p.CaptureMode),
		AuthorizationTtlSeconds:  int32(AuthorizationTTL / time.Second),
		Now:                      now,
		ActualAfterMinor:         p.BalanceAfter.Actual,
		PromoAvailableAfterMinor: p.BalanceAfter.PromoAvailable,
		PromoLockedAfterMinor:    p.BalanceAfter.PromoLocked,
		NextPromoExpiryAfter:     p.BalanceAfter.NextPromoExpiryAt,
		TerminalID:               dbx.NullString(p.Context.TerminalID),
		LocationID:               dbx.NullString(p.Context.LocationID),
		OperatorID:               dbx.NullString(p.Context.OperatorID),
		CheckoutSessionID:        dbx.NullString(p.CheckoutSessionID),
		Reference:                dbx.NullString(p.Reference),
		GrantIds:                 grantIDs,
		GrantAmounts:             amounts,
	})
	if err != nil {
		return Payment{}, fmt.Errorf("storing payment: %w", err)
	}
	out := fromRow(row)
	out.Allocations = p.Allocations
	return out, nil
}

// settleRow records the end of an authorization.
func settleRow(ctx context.Context, q *db.Queries, p Payment) (Payment, error) {
	row, err := q.PaymentSettle(ctx, db.PaymentSettleParams{
		MerchantID:               p.MerchantID,
		ID:                       p.ID,
		Status:                   string(p.Status),
		PromoCapturedMinor:       p.PromoCaptured,
		ActualCapturedMinor:      p.ActualCaptured,
		ActualAfterMinor:         p.BalanceAfter.Actual,
		PromoAvailableAfterMinor: p.BalanceAfter.PromoAvailable,
		PromoLockedAfterMinor:    p.BalanceAfter.PromoLocked,
		NextPromoExpiryAfter:     p.BalanceAfter.NextPromoExpiryAt,
	})
	if err != nil {
		return Payment{}, fmt.Errorf("settling payment %s: %w", p.ID, err)
	}
	out := fromRow(row)
	out.Allocations = p.Allocations
	return out, nil
}

// get reads a payment with its allocations; forUpdate locks it (and leaves
// its Refunds empty: the lockers need only the refunded totals).
func get(ctx context.Context, q *db.Queries, merchantID, id string, forUpdate bool) (Payment, error) {
	var row db.Payment
	var err error
	if forUpdate {
		row, err = q.PaymentGetForUpdate(ctx, db.PaymentGetForUpdateParams{MerchantID: merchantID, ID: id})
	} else {
		row, err = q.PaymentGet(ctx, db.PaymentGetParams{MerchantID: merchantID, ID: id})
	}
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Payment{}, ErrNotFound
		}
		return Payment{}, fmt.Errorf("reading payment %s: %w", id, err)
	}
	p := fromRow(row)
	allocs, err := q.PaymentAllocations(ctx, db.PaymentAllocationsParams{MerchantID: merchantID, PaymentID: id})
	if err != nil {
		return Payment{}, fmt.Errorf("reading allocations of payment %s: %w", id, err)
	}
	for _, a := range allocs {
		p.Allocations = append(p.Allocations, grants.Allocation{GrantID: a.GrantID, Amount: a.AmountMinor})
	}
	if !forUpdate && p.Refunded() > 0 { // the refunds are for reads: no round trip under the lock
		if p.Refunds, err = refunds(ctx, q, p); err != nil {
			return Payment{}, err
		}
	}
	return p, nil
}

func fromRow(r db.Payment) Payment {
	p := Payment{
		ID:             r.ID,
		MerchantID:     r.MerchantID,
		IntegrationID:  r.IntegrationID,
		WalletID:       r.WalletID,
		CustomerID:     r.CustomerID,
		Currency:       r.Currency,
		Amount:         r.AmountMinor,
		PromoApplied:   r.PromoAppliedMinor,
		ActualApplied:  r.ActualAppliedMinor,
		PromoCaptured:  r.PromoCapturedMinor,
		ActualCaptured: r.ActualCapturedMinor,
		ActualRefunded: r.ActualRefundedMinor,
		PromoRefunded:  r.PromoRefundedMinor,
		PromoForfeited: r.PromoForfeitedMinor,
		Refunds:        []Refund{},
		Status:         Status(r.Status),
		CaptureMode:    CaptureMode(r.CaptureMode),
		Allocations:    []grants.Allocation{},
		BalanceAfter: ledger.Balance{
			Currency:       r.Currency,
			Actual:         r.ActualAfterMinor,
			PromoAvailable: r.PromoAvailableAfterMinor,
			PromoLocked:    r.PromoLockedAfterMinor,
		},
		AuthorizationExpiresAt: r.AuthorizationExpiresAt.UTC(),
		Context: ledger.Context{
			TerminalID: dbx.String(r.TerminalID),
			LocationID: dbx.String(r.LocationID),
			OperatorID: dbx.String(r.OperatorID),
		},
		CheckoutSessionID: dbx.String(r.CheckoutSessionID),
		Reference:         dbx.String(r.Reference),
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
	if r.NextPromoExpiryAfter != nil {
		t := r.NextPromoExpiryAfter.UTC()
		p.BalanceAfter.NextPromoExpiryAt = &t
	}
	return p
}
