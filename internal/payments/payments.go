// Package payments takes wallet payments: authorization debits the wallet at
// once, promotional credit first (earliest-expiring grant first, then the
// oldest), then actual money, into the payment's hold; capture moves the
// hold to the merchant's revenue (promo and actual kept apart), and close,
// a partial capture or expiry gives the rest back by reversing the
// allocation. Money moves only through ledger.Post and the grant functions.
//
// API for other packages:
//   - Service.Create, Service.Get, Service.Capture, Service.Refund: the HTTP
//     operations. A refund gives a captured payment back in reverse: actual
//     money first, then promo to its grants, newest allocation first
//     (docs/refunds.md).
//   - Service.ExpireDue, ExpireWorker, ExpireJob: the River sweeper that
//     releases authorizations past authorization_expires_at.
//   - ExpiryFailures counts the expiries that failed in this process (each
//     logged, and retried by a later sweep).
//   - Service.PurgeCredentials, PurgeWorker, PurgeJob: deletes long-dead
//     OTP challenges, and QR tokens through qr.Service.Purge.
package payments

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/spell"
)

// AuthorizationTTL is how long an uncaptured authorization holds funds.
const AuthorizationTTL = 24 * time.Hour

// Status is a payment's state.
type Status string

// The payment statuses.
const (
	StatusAuthorized Status = "authorized"
	StatusCaptured   Status = "captured"
	StatusClosed     Status = "closed"
	StatusExpired    Status = "expired"
)

// CaptureMode says whether authorization captures at once.
type CaptureMode string

// The capture modes.
const (
	CaptureAutomatic CaptureMode = "automatic"
	CaptureManual    CaptureMode = "manual"
)

// Action is what POST /payments/{id}/capture does.
type Action string

// The capture actions.
const (
	ActionCapture Action = "capture"
	ActionClose   Action = "close"
)

// Payment is a wallet payment.
type Payment struct {
	ID            string
	MerchantID    string
	IntegrationID string
	WalletID      string
	CustomerID    string
	Currency      string
	// Amount is what was asked; PromoApplied + ActualApplied what was
	// authorized (less only for a partial authorization).
	Amount         int64
	PromoApplied   int64
	ActualApplied  int64
	PromoCaptured  int64
	ActualCaptured int64
	// ActualRefunded, PromoRefunded and PromoForfeited are what its refunds
	// took back, per money class (forfeited: promo of grants dead since).
	ActualRefunded int64
	PromoRefunded  int64
	PromoForfeited int64
	// Refunds are its refunds, oldest first.
	Refunds     []Refund
	Status      Status
	CaptureMode CaptureMode
	// Allocations is the promo taken per grant, in spending order.
	Allocations            []grants.Allocation
	BalanceAfter           ledger.Balance
	AuthorizationExpiresAt time.Time
	Context                ledger.Context
	CheckoutSessionID      string // "" when none
	Reference              string // "" when none
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Authorized is the amount the authorization holds or held.
func (p Payment) Authorized() int64 { return p.PromoApplied + p.ActualApplied }

// Captured is the amount captured.
func (p Payment) Captured() int64 { return p.PromoCaptured + p.ActualCaptured }

// Partial says whether less than asked was authorized.
func (p Payment) Partial() bool { return p.Authorized() < p.Amount }

var (
	// ErrNotFound: no such payment for the merchant.
	ErrNotFound = errors.New("no such payment")
	// ErrCredentialMalformed: the credential is not one of the valid
	// combinations (validation_failed).
	ErrCredentialMalformed = &fielderr.Error{Input: fielderr.Input{Field: FieldCredential}, Msg: "credential must be {type: qr, value}, {type: otp, phone} or {type: otp, challenge_id, code}"}
	// ErrAmountWithClose: close takes no amount.
	ErrAmountWithClose = &fielderr.Error{Input: fielderr.Input{Field: FieldCaptureAmount}, Msg: "amount_minor is not allowed with action close"}
	// ErrInsufficientFunds matches every InsufficientFundsError.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrCredentialInvalid matches every CredentialInvalidError.
	ErrCredentialInvalid = errors.New("credential invalid")
	// ErrOTPRequired matches every OTPRequiredError.
	ErrOTPRequired = errors.New("otp required")
	// ErrOTPInvalid matches every OTPInvalidError.
	ErrOTPInvalid = errors.New("otp invalid")
	// ErrOTPAttemptsExhausted: OTPMaxAttempts wrong codes killed the
	// challenge.
	ErrOTPAttemptsExhausted = &attemptsExhausted{}
	// ErrStateConflict matches every StateConflictError.
	ErrStateConflict = errors.New("payment state conflict")
	// ErrCaptureExceedsAuthorized matches every CaptureExceedsError.
	ErrCaptureExceedsAuthorized = errors.New("capture exceeds authorized")
)

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldAmount is the amount of a payment Request.
	FieldAmount fielderr.Field = "payments.Request.Amount"
	// FieldCurrency is the currency of a payment Request.
	FieldCurrency fielderr.Field = "payments.Request.Currency"
	// FieldCredential is the credential of a payment Request as a whole.
	FieldCredential fielderr.Field = "payments.Request.Credential"
	// FieldCredentialPhone is the phone of an OTP credential.
	FieldCredentialPhone fielderr.Field = "payments.Request.Credential.Phone"
	// FieldCredentialChallengeID is the challenge of an OTP credential.
	FieldCredentialChallengeID fielderr.Field = "payments.Request.Credential.ChallengeID"
	// FieldCredentialCode is the one-time code of an OTP credential.
	FieldCredentialCode fielderr.Field = "payments.Request.Credential.Code"
	// FieldCaptureAmount is the amount of a CaptureRequest.
	FieldCaptureAmount fielderr.Field = "payments.CaptureRequest.Amount"
)

// InsufficientFundsError carries what a client needs to recover: top up
// the shortfall, then pay again with a new Idempotency-Key.
type InsufficientFundsError struct {
	Amount  int64
	Balance ledger.Balance
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("The wallet cannot cover %s %s.", formatMinor(e.Amount, e.Balance.Currency), e.Balance.Currency)
}

// Is makes errors.Is(err, ErrInsufficientFunds) hold.
func (e *InsufficientFundsError) Is(target error) bool { return target == ErrInsufficientFunds }

// InputField is the payment's amount.
func (e *InsufficientFundsError) InputField() fielderr.Input {
	return fielderr.Input{Field: FieldAmount}
}

// Details are the recovery figures of the contract.
func (e *InsufficientFundsError) Details() map[string]any {
	spendable := e.Balance.Spendable()
	return map[string]any{
		"amount_minor":          e.Amount,
		"spendable_minor":       spendable,
		"shortfall_minor":       e.Amount - spendable,
		"actual_minor":          e.Balance.Actual,
		"promo_available_minor": e.Balance.PromoAvailable,
		"promo_locked_minor":    e.Balance.PromoLocked,
		"currency":              e.Balance.Currency,
	}
}

// Reasons a payment credential is unusable (details.reason), beyond the QR
// reasons of package qr (unknown, expired, used).
const (
	ReasonUnknown          = "unknown"
	ReasonUsed             = "used"
	ReasonChallengeUnknown = "challenge_unknown"
	ReasonChallengeExpired = "challenge_expired"
	ReasonCurrencyMismatch = "currency_mismatch"
)

// CredentialInvalidError: the credential cannot pay (an OTP challenge that
// is unknown, expired or used; no wallet behind a phone; a wallet in
// another currency). QR tokens report qr.InvalidError.
type CredentialInvalidError struct {
	Reason string
	// Input is the part of the credential at fault.
	fielderr.Input
}

func (e *CredentialInvalidError) Error() string {
	switch e.Reason {
	case ReasonChallengeUnknown:
		return "The one-time-code challenge is not known."
	case ReasonChallengeExpired:
		return "The one-time-code challenge has expired; start a new one."
	case ReasonUsed:
		return "The one-time-code challenge was already used."
	case ReasonCurrencyMismatch:
		return "The credential's wallet is in another currency."
	}
	return "No wallet of this merchant matches the credential."
}

// Is makes errors.Is(err, ErrCredentialInvalid) hold.
func (e *CredentialInvalidError) Is(target error) bool { return target == ErrCredentialInvalid }

// Details carry the reason.
func (e *CredentialInvalidError) Details() map[string]any { return map[string]any{"reason": e.Reason} }

// OTPRequiredError is the first step of an OTP payment: the code was sent;
// repeat the payment with the challenge id and the code (and a new
// Idempotency-Key). It is not an authentication failure.
type OTPRequiredError struct {
	ChallengeID string
	ExpiresAt   time.Time
	MaskedPhone string
}

func (e *OTPRequiredError) Error() string {
	return "A one-time code was sent to the customer's phone."
}

// Is makes errors.Is(err, ErrOTPRequired) hold.
func (e *OTPRequiredError) Is(target error) bool { return target == ErrOTPRequired }

// Details say which challenge to complete.
func (e *OTPRequiredError) Details() map[string]any {
	return map[string]any{
		"challenge_id": e.ChallengeID,
		"expires_at":   e.ExpiresAt.UTC().Format(time.RFC3339),
		"masked_phone": e.MaskedPhone,
	}
}

// OTPInvalidError: a wrong code; AttemptsRemaining more are allowed.
type OTPInvalidError struct{ AttemptsRemaining int }

func (e *OTPInvalidError) Error() string { return "The one-time code is wrong." }

// Is makes errors.Is(err, ErrOTPInvalid) hold.
func (e *OTPInvalidError) Is(target error) bool { return target == ErrOTPInvalid }

// Details say how many attempts are left.
func (e *OTPInvalidError) Details() map[string]any {
	return map[string]any{"attempts_remaining": e.AttemptsRemaining}
}

// InputField is the credential's code.
func (e *OTPInvalidError) InputField() fielderr.Input {
	return fielderr.Input{Field: FieldCredentialCode}
}

type attemptsExhausted struct{}

func (*attemptsExhausted) Error() string {
	return fmt.Sprintf("%s wrong one-time codes: the challenge is dead. Start a new one.", spell.Capitalized(OTPMaxAttempts))
}

func (*attemptsExhausted) Details() map[string]any { return map[string]any{"attempts_remaining": 0} }

// StateConflictError: capture or close of a payment that is not authorized,
// or a refund of one that is not captured (Want).
// An expired payment (by the sweeper, or on the spot when a call finds it
// past its authorization_expires_at) reports ExpiredAt, its
// authorization's expiry.
type StateConflictError struct {
	Status    Status
	ExpiredAt *time.Time
	// Want is the status the operation needs: StatusAuthorized when empty.
	Want Status
}

func (e *StateConflictError) Error() string {
	if e.ExpiredAt != nil {
		return fmt.Sprintf("The payment's authorization expired at %s; its hold went back to the wallet.", e.ExpiredAt.UTC().Format(time.RFC3339))
	}
	want := e.Want
	if want == "" {
		want = StatusAuthorized
	}
	return fmt.Sprintf("The payment is %s, not %s.", e.Status, want)
}

// Is makes errors.Is(err, ErrStateConflict) hold.
func (e *StateConflictError) Is(target error) bool { return target == ErrStateConflict }

// Details carry the payment's status, and when its authorization expired
// (authorization_expires_at) if that is why.
func (e *StateConflictError) Details() map[string]any {
	d := map[string]any{"status": string(e.Status)}
	if e.ExpiredAt != nil {
		d["authorization_expires_at"] = e.ExpiredAt.UTC().Format(time.RFC3339)
	}
	return d
}

// CaptureExceedsError: the capture asks for more than was authorized.
type CaptureExceedsError struct{ Authorized int64 }

func (e *CaptureExceedsError) Error() string { return "Capture exceeds the authorized amount." }

// Is makes errors.Is(err, ErrCaptureExceedsAuthorized) hold.
func (e *CaptureExceedsError) Is(target error) bool { return target == ErrCaptureExceedsAuthorized }

// Details carry the authorized amount.
func (e *CaptureExceedsError) Details() map[string]any {
	return map[string]any{"authorized_minor": e.Authorized}
}

// InputField is the capture's amount.
func (e *CaptureExceedsError) InputField() fielderr.Input {
	return fielderr.Input{Field: FieldCaptureAmount}
}

// formatMinor writes minor units in major units for messages: 20000 EUR is
// "200.00".
func formatMinor(amount int64, currency string) string {
	exp, ok := money.Exponent(currency)
	if !ok || exp == 0 {
		return strconv.FormatInt(amount, 10)
	}
	s := fmt.Sprintf("%0*d", exp+1, amount)
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}
