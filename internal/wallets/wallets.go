// Package wallets holds customers' wallets: one per customer and currency,
// pending_proof until the phone is proven, with a two-class balance that
// only the ledger changes.
//
// API for other packages (each takes the caller's transaction's queries):
//
//	Create(ctx, q, NewWallet) (Wallet, error)
//	Get(ctx, q, merchantID, walletID) (Wallet, error)
//	GetForUpdate(ctx, q, merchantID, walletID) (Wallet, error)  lock before moving money
//	GetByCustomer(ctx, q, merchantID, customerID, currency) (Wallet, error)
//	ListByCustomer(ctx, q, merchantID, customerID) ([]Wallet, error)
//	MarkVerified(ctx, q, merchantID, walletID) (Wallet, error)  idempotent
//	CheckCredit(w, amount) error  the ceiling on actual money, held money included (ErrBalanceCeiling)
//	CheckCurrency(currency, field) error  a currency the service serves, else *CurrencyNotSupportedError
//	ListExpiryDue(ctx, q, now, limit) ([]Due, error)  wallets with grants due to expire (the grants sweeper)
//
// Balances read here are as stored: promo past its expiry is still in them
// until grants expires it. Read a balance you show or spend through
// grants.CurrentWallet, which expires lazily first.
package wallets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// Status is a wallet's enrollment status.
type Status string

// The wallet statuses.
const (
	// StatusPendingProof: created by enrollment, phone not yet proven. It
	// can be topped up but cannot pay, and its grants stay locked.
	StatusPendingProof Status = "pending_proof"
	// StatusVerified: phone proven; grants released; can pay.
	StatusVerified Status = "verified"
)

// Wallet is a customer's wallet in one currency.
type Wallet struct {
	ID         string
	MerchantID string
	CustomerID string
	Currency   string
	Status     Status
	Balance    ledger.Balance
	// HeldActual is the actual money the wallet's authorized payments hold
	// (kept by ledger.Post in the wallet row). It is the customer's until
	// captured, and it comes back on release, so it counts against the
	// ceiling.
	HeldActual int64
	CreatedAt  time.Time
	VerifiedAt *time.Time
}

// WithBalance is the wallet as a movement left it.
func (w Wallet) WithBalance(b ledger.Balance) Wallet {
	w.Balance = b
	return w
}

// ExpiryDue says whether a live grant of the wallet is at or past its expiry.
func (w Wallet) ExpiryDue(now time.Time) bool {
	return w.Balance.NextPromoExpiryAt != nil && !w.Balance.NextPromoExpiryAt.After(now)
}

// NewWallet is a wallet to create.
type NewWallet struct {
	MerchantID string
	CustomerID string
	Currency   string
	Status     Status
	// Now is the clock's time: a verified wallet's verified_at.
	Now time.Time
}

var (
	// ErrNotFound: no such wallet for the merchant.
	ErrNotFound = errors.New("no such wallet")
	// ErrAlreadyExists: the customer already has a wallet in the currency.
	ErrAlreadyExists = errors.New("the customer already has a wallet in this currency")
	// ErrNotVerified: the wallet is still pending_proof.
	ErrNotVerified = errors.New("the wallet is not verified; finish enrollment first")
	// ErrBalanceCeiling: a credit would take actual money above the ceiling.
	ErrBalanceCeiling = &fielderr.Error{
		Input: fielderr.Input{Field: FieldCreditAmount},
		Msg:   fmt.Sprintf("The credit would take the wallet's actual money, with what its authorized payments hold, above %d minor units.", money.MaxAmountMinor),
	}
)

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldCreditAmount is the amount given to CheckCredit.
	FieldCreditAmount fielderr.Field = "wallets.CheckCredit.amount"
	// FieldNewWalletCurrency is the currency of a NewWallet.
	FieldNewWalletCurrency fielderr.Field = "wallets.NewWallet.Currency"
)

// CurrencyNotSupportedError: the currency is not served.
type CurrencyNotSupportedError struct {
	Currency string
	// Input is the caller's input that named the currency.
	fielderr.Input
}

func (e *CurrencyNotSupportedError) Error() string {
	return e.Currency + " is not served for this merchant"
}

// Is makes errors.Is(err, ErrCurrencyNotSupported) hold.
func (e *CurrencyNotSupportedError) Is(target error) bool { return target == ErrCurrencyNotSupported }

// ErrCurrencyNotSupported matches every CurrencyNotSupportedError.
var ErrCurrencyNotSupported = errors.New("currency not supported")

// CheckCurrency refuses a currency the service does not serve; field is the
// caller's input that carried it, in the caller's terms (for the error).
func CheckCurrency(currency string, field fielderr.Field) error {
	if _, ok := money.Exponent(currency); !ok {
		return &CurrencyNotSupportedError{Currency: currency, Input: fielderr.Input{Field: field}}
	}
	return nil
}

// CheckCredit refuses a credit of amount that would take the wallet's actual
// money above the ceiling, counting the actual money its authorized
// payments hold: that money comes back to the wallet when a payment is
// closed or expires, and the release must always fit (the database refuses
// the same credit: wallets_actual_with_holds_ceiling).
func CheckCredit(w Wallet, amount int64) error {
	if amount > money.MaxAmountMinor-w.Balance.Actual-w.HeldActual {
		return ErrBalanceCeiling
	}
	return nil
}

// Create makes a wallet with a zero balance.
func Create(ctx context.Context, q *db.Queries, n NewWallet) (Wallet, error) {
	if err := CheckCurrency(n.Currency, FieldNewWalletCurrency); err != nil {
		return Wallet{}, err
	}
	if n.Status != StatusPendingProof && n.Status != StatusVerified {
		return Wallet{}, fmt.Errorf("creating wallet: unknown status %q", n.Status)
	}
	row, err := q.WalletInsert(ctx, db.WalletInsertParams{
		ID: ids.New(ids.Wallet), MerchantID: n.MerchantID, CustomerID: n.CustomerID,
		Currency: n.Currency, Status: string(n.Status), Now: n.Now,
	})
	if err != nil {
		if dbx.IsUniqueViolation(err, "wallets_customer_currency_key") {
			return Wallet{}, ErrAlreadyExists
		}
		return Wallet{}, fmt.Errorf("creating wallet: %w", err)
	}
	return fromRow(row), nil
}

// Get reads a wallet of the merchant.
func Get(ctx context.Context, q *db.Queries, merchantID, walletID string) (Wallet, error) {
	row, err := q.WalletGet(ctx, db.WalletGetParams{MerchantID: merchantID, ID: walletID})
	return one(row, err, walletID)
}

// GetForUpdate reads and locks a wallet of the merchant until the end of the
// caller's transaction. Lock several wallets in id order.
func GetForUpdate(ctx context.Context, q *db.Queries, merchantID, walletID string) (Wallet, error) {
	row, err := q.WalletGetForUpdate(ctx, db.WalletGetForUpdateParams{MerchantID: merchantID, ID: walletID})
	return one(row, err, walletID)
}

// GetByCustomer reads the customer's wallet in a currency.
func GetByCustomer(ctx context.Context, q *db.Queries, merchantID, customerID, currency string) (Wallet, error) {
	row, err := q.WalletGetByCustomer(ctx, db.WalletGetByCustomerParams{MerchantID: merchantID, CustomerID: customerID, Currency: currency})
	return one(row, err, customerID+"/"+currency)
}

// ListByCustomer reads the customer's wallets, oldest first.
func ListByCustomer(ctx context.Context, q *db.Queries, merchantID, customerID string) ([]Wallet, error) {
	rows, err := q.WalletListByCustomer(ctx, db.WalletListByCustomerParams{MerchantID: merchantID, CustomerID: customerID})
	if err != nil {
		return nil, fmt.Errorf("listing wallets of %s: %w", customerID, err)
	}
	out := make([]Wallet, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// MarkVerified flips the wallet to verified (phone proven). A verified
// wallet stays as it is. The caller releases the locked grants in the same
// transaction (grants.ReleaseLocked). now is its verified_at.
func MarkVerified(ctx context.Context, q *db.Queries, merchantID, walletID string, now time.Time) (Wallet, error) {
	row, err := q.WalletMarkVerified(ctx, db.WalletMarkVerifiedParams{MerchantID: merchantID, ID: walletID, Now: now})
	return one(row, err, walletID)
}

// Due is a wallet holding a grant at or past its expiry.
type Due struct{ MerchantID, WalletID string }

// ListExpiryDue lists up to limit wallets, of every merchant, whose earliest
// live grant is due at now (the expiry sweeper's work list).
func ListExpiryDue(ctx context.Context, q *db.Queries, now time.Time, limit int32) ([]Due, error) {
	rows, err := q.WalletListExpiryDue(ctx, db.WalletListExpiryDueParams{Now: &now, BatchSize: limit})
	if err != nil {
		return nil, fmt.Errorf("listing wallets due for expiry: %w", err)
	}
	out := make([]Due, len(rows))
	for i, r := range rows {
		out[i] = Due{MerchantID: r.MerchantID, WalletID: r.ID}
	}
	return out, nil
}

func one(row db.Wallet, err error, what string) (Wallet, error) {
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Wallet{}, ErrNotFound
		}
		return Wallet{}, fmt.Errorf("reading wallet %s: %w", what, err)
	}
	return fromRow(row), nil
}

func fromRow(r db.Wallet) Wallet {
	w := Wallet{
		ID:         r.ID,
		MerchantID: r.MerchantID,
		CustomerID: r.CustomerID,
		Currency:   r.Currency,
		Status:     Status(r.Status),
		Balance: ledger.Balance{
			Currency:       r.Currency,
			Actual:         r.ActualMinor,
			PromoAvailable: r.PromoAvailableMinor,
			PromoLocked:    r.PromoLockedMinor,
		},
		HeldActual: r.HeldActualMinor,
		CreatedAt:  r.CreatedAt.UTC(),
	}
	if r.NextPromoExpiryAt != nil {
		t := r.NextPromoExpiryAt.UTC()
		w.Balance.NextPromoExpiryAt = &t
	}
	if r.VerifiedAt != nil {
		t := r.VerifiedAt.UTC()
		w.VerifiedAt = &t
	}
	return w
}
