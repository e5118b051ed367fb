// Package ledger is the double-entry ledger: the one place money moves.
//
// API for other packages:
//
//	Post(ctx, q, Movement) (Transaction, error)  book one movement (the only writer of entries and balances)
//	Get(ctx, q, merchantID, txnID) (Transaction, error)  a transaction with its entries
//	Entries(ctx, q, merchantID, txnID) ([]Entry, error)  the entries of a transaction already scoped
//	TransactionBySettlement(ctx, q, merchantID, provider, reference) (string, error)
//	FromRow(db.LedgerTransaction) Transaction  for the read-side stores (transactions)
//	WalletActual / WalletPromoAvailable / WalletPromoLocked / HoldActual / HoldPromo /
//	TopupClearing / SkuClearing / PromoFunding / PromoExpired / PromoClawback /
//	PromoRedeemed / Revenue  the accounts
//	Balance, Context, References, Entry, Type*  the values Post takes and gives
//
// Every movement is one ledger transaction of at least two entries that sum
// to zero per currency and per money class: actual money and promotional
// credit never cross. The wallet's balance columns change in the same
// statement that writes the entries, so they always equal the entries. The
// database checks the same rules by itself, at the end of every statement
// that books entries (db/migrations/00003_ledger.sql).
//
// Callers lock the wallet first (wallets.GetForUpdate, several wallets in id
// order) and run Post on the queries of their transaction.
package ledger

import (
	"errors"
	"time"
)

// Type is the kind of a ledger transaction (the document's TransactionType).
type Type string

// The transaction types.
const (
	TypeTopup                Type = "topup"
	TypeSkuTopup             Type = "sku_topup"
	TypePayment              Type = "payment"
	TypePaymentAuthorization Type = "payment_authorization"
	TypePaymentCapture       Type = "payment_capture"
	TypePaymentRelease       Type = "payment_release"
	TypePaymentExpiry        Type = "payment_expiry"
	TypePaymentRefund        Type = "payment_refund"
	TypePromoGrant           Type = "promo_grant"
	TypePromoRelease         Type = "promo_release"
	TypePromoExpiry          Type = "promo_expiry"
	TypePromoClawback        Type = "promo_clawback"
)

// Types lists every transaction type.
func Types() []Type {
	return []Type{TypeTopup, TypeSkuTopup, TypePayment, TypePaymentAuthorization, TypePaymentCapture, TypePaymentRelease,
		TypePaymentExpiry, TypePaymentRefund, TypePromoGrant, TypePromoRelease, TypePromoExpiry, TypePromoClawback}
}

// Valid says whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types() {
		if k == t {
			return true
		}
	}
	return false
}

// Balance is a wallet's two-class balance. Actual money and promotional
// credit are kept apart; spendable is computed, never stored.
type Balance struct {
	Currency          string
	Actual            int64
	PromoAvailable    int64
	PromoLocked       int64
	NextPromoExpiryAt *time.Time
}

// Spendable is what a payment can take now: actual plus available promo.
func (b Balance) Spendable() int64 { return b.Actual + b.PromoAvailable }

// Context is where a request came from, recorded on every transaction it
// causes. Empty fields are unknown.
type Context struct {
	TerminalID string
	LocationID string
	OperatorID string
}

// References say what a transaction relates to. Empty fields are none.
type References struct {
	PaymentID           string
	GrantID             string
	SettlementReference string
	Provider            string
	SkuID               string
	// POSReference is the till's receipt reference of a SKU sale (kept for
	// audit; not part of the API's transaction).
	POSReference string
}

// Entry is one signed line of a transaction: positive credits the account.
type Entry struct {
	Account  Account
	Amount   int64
	Currency string
}

// Movement is what Post books.
type Movement struct {
	// ID is the transaction id; Post makes one when empty. Callers that must
	// name the transaction before booking it (grant history) set it.
	ID            string
	MerchantID    string
	IntegrationID string
	Type          Type
	// WalletID is the wallet the transaction is about; it is the only
	// wallet its entries may touch.
	WalletID string
	Currency string
	// Amount is the size of the movement, as the API shows it (>= 0).
	Amount     int64
	Entries    []Entry
	References References
	Context    Context
}

// Transaction is a booked movement.
type Transaction struct {
	ID            string
	MerchantID    string
	IntegrationID string
	Type          Type
	WalletID      string
	CustomerID    string
	Currency      string
	Amount        int64
	// ActualDelta and PromoDelta are the wallet's change per money class.
	ActualDelta  int64
	PromoDelta   int64
	BalanceAfter Balance
	References   References
	Context      Context
	CreatedAt    time.Time
	// Entries are filled by Post and Get (not by listings).
	Entries []Entry
}

var (
	// ErrNotFound: no such transaction for the merchant (or the wallet of a
	// movement is not the merchant's, or not in its currency).
	ErrNotFound = errors.New("no such transaction")
	// ErrUnbalanced: a movement breaks a ledger rule. It is a bug of the
	// caller, never an answer to a client.
	ErrUnbalanced = errors.New("unbalanced ledger movement")
	// ErrNegativeBalance: the movement would take a wallet balance below
	// zero or actual money above the ceiling. Callers check the figures
	// first; this is the database's last line of defence.
	ErrNegativeBalance = errors.New("wallet balance out of range")
	// ErrDuplicateSettlement: the (provider, settlement reference) pair was
	// already booked by the merchant.
	ErrDuplicateSettlement = errors.New("settlement reference already booked")
)
