// Package grants is promotional credit: grants issued to a wallet (welcome,
// reload bonus, SKU bonus), their state machine and history, lazy and swept
// expiry, clawback, and the promo-first allocation payments spend with.
//
// API for other packages (functions taking q run on the caller's
// transaction; every money change goes through ledger.Post):
//
//	Issue(ctx, q, NewGrant, now) (Grant, ledger.Transaction, error)  locks the wallet itself
//	IssueOnLockedWallet(ctx, q, w, NewGrant, now) (Grant, ledger.Transaction, error)  caller holds w's lock
//	ReleaseLocked(ctx, q, Release, now) ([]Grant, error)  every locked live grant of a verified wallet -> available
//	ExpireDue(ctx, q, merchantID, walletID, now) (wallets.Wallet, error)  lazy expiry (locks the wallet)
//	ExpireDueForLockedWallet(ctx, q, w, now) (wallets.Wallet, error)  the same under the caller's lock
//	CurrentWallet(ctx, q, merchantID, walletID, now) (wallets.Wallet, error)  a wallet with expiry applied
//	ListLive(ctx, q, merchantID, walletID) ([]Grant, error)  locked and available, spending order
//	AllocatePromoFirst(grants, amount, now) []Allocation  pure: earliest expiry first, then oldest
//	Spend(ctx, q, w, allocations, txnID) ([]Grant, error)  a payment takes promo from grants
//	Restore(ctx, q, w, allocations, txnID, now) (Returned, error)  a closed payment gives it back
//	Refund(ctx, q, w, allocations, txnID, now) (Returned, error)  a refunded payment gives it back
//	Service.ListForCustomer, Service.Clawback  the HTTP operations
//	Sweep(ctx, pool, now) (int, error), SweepWorker / SweepJob  the River expiry sweeper
//
// State machine (docs/incentives.md, "The state machine"): locked -> available (release); locked |
// available -> expired (at expires_at); locked | available -> clawed_back
// (operator); available -> consumed (remaining hits 0); consumed ->
// available (a payment using it closed while the grant is live); consumed ->
// expired (promo a payment held comes back after the grant's expiry).
// expired and clawed_back are final. Every transition is recorded in the history, and
// every one that moves promo books a ledger transaction on the wallet.
package grants

import (
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/internal/ledger"
)

// State is a grant's state.
type State string

// The grant states.
const (
	StateLocked     State = "locked"
	StateAvailable  State = "available"
	StateConsumed   State = "consumed"
	StateExpired    State = "expired"
	StateClawedBack State = "clawed_back"
)

// Live says whether the grant still holds promo (locked or available).
func (s State) Live() bool { return s == StateLocked || s == StateAvailable }

// Source is why a grant was issued.
type Source string

// The grant sources.
const (
	SourceWelcome     Source = "welcome"
	SourceReloadBonus Source = "reload_bonus"
	SourceSkuBonus    Source = "sku_bonus"
)

// Reasons of history entries.
const (
	ReasonIssued          = "issued"
	ReasonWalletVerified  = "wallet_verified"
	ReasonClaim           = "claim"
	ReasonPayment         = "payment"
	ReasonPaymentClosed   = "payment_closed"
	ReasonPaymentRefunded = "payment_refunded"
	ReasonExpired         = "expired"
	ReasonClawback        = "clawback"
)

// Grant is promotional credit with its own lifetime.
type Grant struct {
	ID            string
	MerchantID    string
	IntegrationID string
	WalletID      string
	CustomerID    string
	Source        Source
	SourceRef     string // "" when none
	Currency      string
	Original      int64
	Remaining     int64
	State         State
	ExpiresAt     time.Time
	CreatedAt     time.Time
	// History is every transition, oldest first (filled by the reads and
	// operations that return grants to clients).
	History []Event
}

// Event is one transition of a grant.
type Event struct {
	From          State // "" for the issuing entry
	To            State
	Reason        string
	Amount        int64 // promo the transition moved
	TransactionID string
	Detail        string // the clawback reason
	Note          string
	At            time.Time
}

// NewGrant is a grant to issue.
type NewGrant struct {
	MerchantID    string
	IntegrationID string
	WalletID      string
	Source        Source
	SourceRef     string
	Amount        int64
	ExpiresAt     time.Time
	// Locked issues the grant locked. A grant of a pending_proof wallet is
	// always locked, whatever this says.
	Locked  bool
	Context ledger.Context
}

// Release asks for the locked grants of a wallet to become available.
type Release struct {
	MerchantID    string
	WalletID      string
	IntegrationID string
	Context       ledger.Context
	// Reason goes into the history: ReasonWalletVerified or ReasonClaim.
	Reason string
}

// Allocation is promo a payment takes from (or gives back to) one grant.
type Allocation struct {
	GrantID string
	Amount  int64
}

var (
	// ErrNotFound: no such grant for the merchant.
	ErrNotFound = errors.New("no such grant")
	// ErrInvalid: a grant to issue is malformed (a caller's bug).
	ErrInvalid = errors.New("invalid grant")
	// ErrStateConflict matches every StateConflictError.
	ErrStateConflict = errors.New("grant state conflict")
)

// StateConflictError: the grant is in a state the operation cannot start
// from (clawback of an expired, clawed-back or consumed grant).
type StateConflictError struct{ State State }

func (e *StateConflictError) Error() string { return fmt.Sprintf("The grant is %s.", e.State) }

// Is makes errors.Is(err, ErrStateConflict) hold.
func (e *StateConflictError) Is(target error) bool { return target == ErrStateConflict }

// Details carries the grant's current state.
func (e *StateConflictError) Details() map[string]any {
	return map[string]any{"state": string(e.State)}
}
