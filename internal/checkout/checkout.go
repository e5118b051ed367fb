// Package checkout holds checkout sessions: a POS basket (currency, an
// optional fixed amount, a reference) open for 30 minutes, to which identify
// attaches a customer and which a payment naming it completes.
//
// API for other packages:
//   - Service.Create / Service.Get / Service.Identify: the HTTP operations.
//   - LockForPayment(ctx, q, merchantID, id, currency, amount, now) locks an open
//     session and checks the payment fits it; Complete(ctx, q, Completion{…})
//     then records the payment, in the payment's transaction.
package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/wallets"
)

// TTL is how long a session stays open.
const TTL = 30 * time.Minute

// Status is a session's state.
type Status string

// The statuses: an open session past its expiry reads as expired.
const (
	StatusOpen      Status = "open"
	StatusCompleted Status = "completed"
	StatusExpired   Status = "expired"
)

// Session is a checkout session.
type Session struct {
	ID            string
	MerchantID    string
	IntegrationID string
	Currency      string
	AmountMinor   *int64 // nil: the payment decides
	Reference     string // "" when none
	Status        Status
	PaymentID     string // "" until a payment completes it
	ExpiresAt     time.Time
	CreatedAt     time.Time
	// Customer is the identified customer (with their wallet), nil until
	// identify succeeds or a payment completes the session.
	Customer *identity.CustomerContext

	customerID, walletID string
}

// SessionRequest is a session to open.
type SessionRequest struct {
	MerchantID    string
	IntegrationID string
	Currency      string
	AmountMinor   *int64
	Reference     string
}

var (
	// ErrNotFound: no such session for the merchant.
	ErrNotFound = errors.New("no such checkout session")
	// ErrClosed matches every ClosedError.
	ErrClosed = errors.New("checkout session closed")
	// ErrAmountMismatch: the payment's amount differs from the session's
	// fixed amount.
	ErrAmountMismatch = &fielderr.Error{Input: fielderr.Input{Field: FieldPaymentAmount}, Msg: "the amount differs from the checkout session's fixed amount"}
	// ErrCurrencyMismatch: the payment's currency differs from the session's.
	ErrCurrencyMismatch = &fielderr.Error{Input: fielderr.Input{Field: FieldPaymentCurrency}, Msg: "the currency differs from the checkout session's currency"}
	// ErrPartialAuthorization: a partial authorization cannot pay a session
	// with a fixed amount. A session reads completed only when its whole
	// amount is paid, so a till that trusts it never hands over goods worth
	// more than it was paid; the customer tops up, or the till takes the
	// whole amount another way.
	ErrPartialAuthorization = &fielderr.Error{Input: fielderr.Input{Field: FieldCompletingPayment}, Msg: "partial_authorization cannot pay a checkout session with a fixed amount: the wallet does not cover all of it"}
)

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldSessionRequestCurrency is the currency of a SessionRequest.
	FieldSessionRequestCurrency fielderr.Field = "checkout.SessionRequest.Currency"
	// FieldPaymentCurrency is the payment's currency given to
	// LockForPayment.
	FieldPaymentCurrency fielderr.Field = "checkout.LockForPayment.currency"
	// FieldPaymentAmount is the payment's amount given to LockForPayment.
	FieldPaymentAmount fielderr.Field = "checkout.LockForPayment.amount"
	// FieldCompletingPayment is the payment of a Completion: one that
	// authorized less than the session's fixed amount (it allowed a
	// partial authorization).
	FieldCompletingPayment fielderr.Field = "checkout.Completion.PaymentID"
)

// ClosedError: the session is completed or expired.
type ClosedError struct{ Status Status }

func (e *ClosedError) Error() string { return fmt.Sprintf("The checkout session is %s.", e.Status) }

// Is makes errors.Is(err, ErrClosed) hold.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// Details carry the session's status.
func (e *ClosedError) Details() map[string]any { return map[string]any{"status": string(e.Status)} }

// Service runs checkout sessions.
type Service struct {
	pool     *pgxpool.Pool
	identity *identity.Service
	now      func() time.Time
}

// NewService returns the service; sessions open and expire by now.
func NewService(pool *pgxpool.Pool, ids *identity.Service, now func() time.Time) *Service {
	return &Service{pool: pool, identity: ids, now: now}
}

// Create opens a session in a served currency.
func (s *Service) Create(ctx context.Context, n SessionRequest) (Session, error) {
	if err := wallets.CheckCurrency(n.Currency, FieldSessionRequestCurrency); err != nil {
		return Session{}, err
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Session, error) {
		row, err := q.CheckoutSessionInsert(ctx, db.CheckoutSessionInsertParams{
			ID:            ids.New(ids.CheckoutSession),
			MerchantID:    n.MerchantID,
			IntegrationID: n.IntegrationID,
			Currency:      n.Currency,
			AmountMinor:   n.AmountMinor,
			Reference:     dbx.NullString(n.Reference),
			TtlSeconds:    int32(TTL / time.Second),
			Now:           s.now(),
		})
		if err != nil {
			return Session{}, fmt.Errorf("opening checkout session: %w", err)
		}
		return fromRow(row, false), nil
	})
}

// Get reads a session of the merchant with its customer's current context.
func (s *Service) Get(ctx context.Context, merchantID, id string) (Session, error) {
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Session, error) {
		row, err := q.CheckoutSessionGet(ctx, db.CheckoutSessionGetParams{MerchantID: merchantID, ID: id, Now: s.now()})
		if err = interpret(err); err != nil {
			return Session{}, err
		}
		return s.withCustomer(ctx, q, fromRow(row.CheckoutSession, row.Expired))
	})
}

// Identify resolves a credential like identity.Identify (preferring the
// customer's wallet in the session's currency) and attaches the customer to
// the open session, replacing an earlier one.
//
// The session is locked first, as a payment naming it does, so the two
// take the session's and the wallet's locks in the same order.
func (s *Service) Identify(ctx context.Context, caller identity.Caller, id string, cred identity.Credential) (Session, error) {
	current, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Session, error) {
		return lockOpen(ctx, q, caller.MerchantID, id, s.now())
	})
	if err != nil {
		return Session{}, err
	}
	cc, err := s.identity.Identify(ctx, caller, cred, current.Currency)
	if err != nil {
		return Session{}, err
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Session, error) {
		row, err := q.CheckoutSessionIdentify(ctx, db.CheckoutSessionIdentifyParams{
			MerchantID: caller.MerchantID, ID: id, CustomerID: &cc.CustomerID, WalletID: &cc.Wallet.ID, Now: s.now(),
		})
		if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
			return Session{}, s.whyNotOpen(ctx, q, caller.MerchantID, id) // closed meanwhile
		}
		if err != nil {
			return Session{}, fmt.Errorf("identifying checkout session: %w", err)
		}
		out := fromRow(row, false)
		out.Customer = &cc
		return out, nil
	})
}

// LockForPayment locks an open session of the merchant for a payment of
// amount in currency, in the payment's transaction q. A session that is not
// open is a *ClosedError; a fixed amount the payment does not match is
// ErrAmountMismatch. A session past its expiry at now is expired.
func LockForPayment(ctx context.Context, q *db.Queries, merchantID, id, currency string, amount int64, now time.Time) error {
	sess, err := lockOpen(ctx, q, merchantID, id, now)
	switch {
	case err != nil:
		return err
	case sess.Currency != currency:
		return ErrCurrencyMismatch
	case sess.AmountMinor != nil && *sess.AmountMinor != amount:
		return ErrAmountMismatch
	}
	return nil
}

// lockOpen locks a session of the merchant that must be open until the end
// of the caller's transaction.
func lockOpen(ctx context.Context, q *db.Queries, merchantID, id string, now time.Time) (Session, error) {
	row, err := q.CheckoutSessionGetForUpdate(ctx, db.CheckoutSessionGetForUpdateParams{MerchantID: merchantID, ID: id, Now: now})
	if err = interpret(err); err != nil {
		return Session{}, err
	}
	sess := fromRow(row.CheckoutSession, row.Expired)
	if sess.Status != StatusOpen {
		return Session{}, &ClosedError{Status: sess.Status}
	}
	return sess, nil
}

// Completion is the payment that completes a session, and its payer.
type Completion struct {
	MerchantID string
	SessionID  string
	PaymentID  string
	CustomerID string
	WalletID   string
}

// Complete records the payment (already stored) that completes a session
// locked by LockForPayment; its payer becomes the session's customer. A
// session with a fixed amount is completed only by a payment that
// authorized all of it: a partial authorization is ErrPartialAuthorization,
// and the caller's transaction, debit included, is rolled back.
func Complete(ctx context.Context, q *db.Queries, c Completion) error {
	n, err := q.CheckoutSessionComplete(ctx, db.CheckoutSessionCompleteParams{
		MerchantID: c.MerchantID, ID: c.SessionID, PaymentID: c.PaymentID, CustomerID: &c.CustomerID, WalletID: &c.WalletID,
	})
	if err != nil {
		return fmt.Errorf("completing checkout session %s: %w", c.SessionID, err)
	}
	if n == 0 {
		return ErrPartialAuthorization
	}
	return nil
}

func (s *Service) whyNotOpen(ctx context.Context, q *db.Queries, merchantID, id string) error {
	row, err := q.CheckoutSessionGet(ctx, db.CheckoutSessionGetParams{MerchantID: merchantID, ID: id, Now: s.now()})
	if err = interpret(err); err != nil {
		return err
	}
	return &ClosedError{Status: fromRow(row.CheckoutSession, row.Expired).Status}
}

func (s *Service) withCustomer(ctx context.Context, q *db.Queries, sess Session) (Session, error) {
	if sess.customerID == "" {
		return sess, nil
	}
	c, err := customers.Get(ctx, q, sess.MerchantID, sess.customerID)
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	w, err := grants.CurrentWallet(ctx, q, sess.MerchantID, sess.walletID, now)
	if err != nil {
		return Session{}, err
	}
	cc, err := identity.ContextOf(ctx, q, c, w, now)
	if err != nil {
		return Session{}, err
	}
	sess.Customer = &cc
	return sess, nil
}

func interpret(err error) error {
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return fmt.Errorf("reading checkout session: %w", err)
	}
	return nil
}

func fromRow(r db.CheckoutSession, expired bool) Session {
	s := Session{
		ID:            r.ID,
		MerchantID:    r.MerchantID,
		IntegrationID: r.IntegrationID,
		Currency:      r.Currency,
		AmountMinor:   r.AmountMinor,
		Reference:     dbx.String(r.Reference),
		Status:        Status(r.Status),
		PaymentID:     dbx.String(r.PaymentID),
		ExpiresAt:     r.ExpiresAt.UTC(),
		CreatedAt:     r.CreatedAt.UTC(),
		customerID:    dbx.String(r.CustomerID),
		walletID:      dbx.String(r.WalletID),
	}
	if s.Status == StatusOpen && expired {
		s.Status = StatusExpired
	}
	return s
}
