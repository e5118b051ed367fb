package grants

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/keyset"
	"github.com/feddi/partner-api/internal/wallets"
)

// Service runs the grant operations of the API.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns the service over pool, reading time from now.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// ListQuery asks for a page of a customer's grants.
type ListQuery struct {
	MerchantID string
	CustomerID string
	State      State // "" for every state
	Limit      int
	Cursor     string
}

// ListForCustomer lists a customer's grants with their history, newest
// first. Due grants of the customer's wallets expire first, so the states
// are current.
func (s *Service) ListForCustomer(ctx context.Context, lq ListQuery) (keyset.Page[Grant], error) {
	listing := keyset.Listing("grants", lq.MerchantID, lq.CustomerID, string(lq.State))
	params := db.GrantListByCustomerParams{MerchantID: lq.MerchantID, CustomerID: lq.CustomerID, PageSize: int32(lq.Limit + 1)}
	if lq.State != "" {
		st := string(lq.State)
		params.State = &st
	}
	if lq.Cursor != "" {
		pos, err := keyset.Decode(listing, lq.Cursor)
		if err != nil {
			return keyset.Page[Grant]{}, keyset.ErrInvalid
		}
		params.BeforeCreatedAt, params.BeforeID = &pos.At, &pos.Key
	}
	now := s.now()
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (keyset.Page[Grant], error) {
		if _, err := customers.Get(ctx, q, lq.MerchantID, lq.CustomerID); err != nil {
			return keyset.Page[Grant]{}, err
		}
		ws, err := wallets.ListByCustomer(ctx, q, lq.MerchantID, lq.CustomerID)
		if err != nil {
			return keyset.Page[Grant]{}, err
		}
		for _, w := range ws {
			if w.ExpiryDue(now) {
				if _, err := ExpireDue(ctx, q, w.MerchantID, w.ID, now); err != nil {
					return keyset.Page[Grant]{}, err
				}
			}
		}
		rows, err := q.GrantListByCustomer(ctx, params)
		if err != nil {
			return keyset.Page[Grant]{}, fmt.Errorf("listing grants of %s: %w", lq.CustomerID, err)
		}
		page := keyset.Page[Grant]{Items: fromRows(rows)}
		if len(page.Items) > lq.Limit {
			page.Items = page.Items[:lq.Limit]
			last := page.Items[len(page.Items)-1]
			page.NextCursor = keyset.Encode(listing, keyset.Position{At: last.CreatedAt, Key: last.ID})
		}
		page.Items, err = withHistory(ctx, q, lq.MerchantID, page.Items)
		return page, err
	})
}

// ClawbackReason is why an operator claws a grant back.
type ClawbackReason string

// The clawback reasons.
const (
	ClawbackFraud         ClawbackReason = "fraud"
	ClawbackVoidedTopup   ClawbackReason = "voided_topup"
	ClawbackOperatorError ClawbackReason = "operator_error"
	ClawbackOther         ClawbackReason = "other"
)

// ClawbackRequest asks for a grant's remaining promo to be removed.
type ClawbackRequest struct {
	MerchantID    string
	IntegrationID string
	GrantID       string
	Reason        ClawbackReason
	Note          string
	Context       ledger.Context
}

// Clawed is a clawed-back grant and the transaction that removed its promo.
type Clawed struct {
	Grant       Grant
	Transaction ledger.Transaction
}

// Clawback removes what remains of a locked or available grant (state
// clawed_back, final) in one promo_clawback transaction: the wallet's promo
// goes to the merchant's promo_clawback account; what was spent stays spent
// and actual money is never touched. A grant that is expired (including one
// found past its expiry now, which is expired and stays so), clawed back or
// consumed: *StateConflictError.
func (s *Service) Clawback(ctx context.Context, c ClawbackRequest) (Clawed, error) {
	type outcome struct {
		clawed   Clawed
		conflict error
	}
	now := s.now()
	out, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (outcome, error) {
		g, err := get(ctx, q, c.MerchantID, c.GrantID)
		if err != nil {
			return outcome{}, err
		}
		w, err := wallets.GetForUpdate(ctx, q, c.MerchantID, g.WalletID)
		if err != nil {
			return outcome{}, err
		}
		if w, err = ExpireDueForLockedWallet(ctx, q, w, now); err != nil {
			return outcome{}, err
		}
		if g, err = get(ctx, q, c.MerchantID, c.GrantID); err != nil { // current under the lock
			return outcome{}, err
		}
		if !g.State.Live() {
			// Commit the lazy expiry, refuse the clawback.
			return outcome{conflict: &StateConflictError{State: g.State}}, nil
		}
		account := ledger.WalletPromoAvailable(w.ID)
		if g.State == StateLocked {
			account = ledger.WalletPromoLocked(w.ID)
		}
		txnID := ids.New(ids.Transaction)
		moved, err := transition(ctx, q, move{
			MerchantID: c.MerchantID, GrantIDs: []string{g.ID}, To: StateClawedBack, Reason: ReasonClawback, TransactionID: txnID,
			Detail: string(c.Reason), Note: c.Note,
		})
		if err != nil {
			return outcome{}, err
		}
		txn, err := ledger.Post(ctx, q, ledger.Movement{
			ID: txnID, MerchantID: c.MerchantID, IntegrationID: c.IntegrationID, Type: ledger.TypePromoClawback,
			WalletID: w.ID, Currency: w.Currency, Amount: g.Remaining,
			Entries: []ledger.Entry{
				{Account: account, Amount: -g.Remaining},
				{Account: ledger.PromoClawback(c.MerchantID), Amount: g.Remaining},
			},
			References: ledger.References{GrantID: g.ID},
			Context:    c.Context,
		})
		if err != nil {
			return outcome{}, err
		}
		withH, err := withHistory(ctx, q, c.MerchantID, moved)
		if err != nil {
			return outcome{}, err
		}
		if err := recordEvents(ctx, q, events.GrantClawedBack, withH, now); err != nil {
			return outcome{}, err
		}
		return outcome{clawed: Clawed{Grant: withH[0], Transaction: txn}}, nil
	})
	if err != nil {
		return Clawed{}, err
	}
	if out.conflict != nil {
		return Clawed{}, out.conflict
	}
	return out.clawed, nil
}
