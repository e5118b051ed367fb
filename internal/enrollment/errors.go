package enrollment

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/spell"
)

// The errors of the package; callers test them with errors.Is and read
// their figures through the typed errors below. Their text is written for
// the client and never holds a phone number or a code.
var (
	// ErrInvalid: an input is not acceptable (a *fielderr.Error names it).
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: no verification (or wallet) of this merchant matches.
	ErrNotFound = errors.New("no pending verification matches this verification_id or phone")
	// ErrAlreadyEnrolled: the phone's wallet is already verified
	// (AlreadyEnrolledError names the customer).
	ErrAlreadyEnrolled = errors.New("this phone already has a verified wallet")
	// ErrCodeInvalid: wrong code or link token (CodeInvalidError gives the
	// attempts left).
	ErrCodeInvalid = errors.New("the verification code is not correct")
	// ErrExpired: the code is past its 15 minutes.
	ErrExpired = errors.New("the verification code has expired; ask for a new one with POST /enroll/resend")
	// ErrAttemptsExhausted: MaxAttempts wrong codes killed the current code.
	ErrAttemptsExhausted = fmt.Errorf("%s wrong codes: this code is dead; ask for a new one with POST /enroll/resend", spell.Number(MaxAttempts))
	// ErrRateLimited: less than 60 seconds since the last send
	// (WaitError says how long to wait).
	ErrRateLimited = errors.New("wait before asking for another code")
	// ErrResendLimitReached: MaxResends resends in the last ResendWindow
	// (WaitError says how long to wait).
	ErrResendLimitReached = fmt.Errorf("no more resends for now: %d were sent in the last %d hours", MaxResends, int(ResendWindow/time.Hour))
	// ErrProofRequired: claims on a wallet still pending_proof
	// (ProofRequiredError carries the verification state).
	ErrProofRequired = errors.New("the wallet's phone is not verified yet; finish enrollment with POST /enroll/verify")
)

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldPhone is the phone of an Enrollee.
	FieldPhone fielderr.Field = "enrollment.Enrollee.Phone"
	// FieldCurrency is the currency of an Enrollee.
	FieldCurrency fielderr.Field = "enrollment.Enrollee.Currency"
	// FieldWelcomeGrantAmount is the amount of an Enrollee's WelcomeGrant.
	FieldWelcomeGrantAmount fielderr.Field = "enrollment.Enrollee.WelcomeGrant.Amount"
	// FieldWelcomeGrantExpiresInDays is the lifetime of an Enrollee's
	// WelcomeGrant.
	FieldWelcomeGrantExpiresInDays fielderr.Field = "enrollment.Enrollee.WelcomeGrant.ExpiresInDays"
	// FieldCardFingerprint is the card fingerprint of an Enrollee.
	FieldCardFingerprint fielderr.Field = "enrollment.Enrollee.CardFingerprint"
	// FieldProviderCustomerID is the provider's customer id of an Enrollee.
	FieldProviderCustomerID fielderr.Field = "enrollment.Enrollee.ProviderCustomerID"
	// FieldTarget is a Target as a whole (neither of its fields given).
	FieldTarget fielderr.Field = "enrollment.Target"
	// FieldTargetPhone is the phone of a Target.
	FieldTargetPhone fielderr.Field = "enrollment.Target.Phone"
	// FieldProof is a Proof as a whole (neither secret given).
	FieldProof fielderr.Field = "enrollment.Proof"
	// FieldProofCode is the code of a Proof.
	FieldProofCode fielderr.Field = "enrollment.Proof.Code"
	// FieldProofLinkToken is the link token of a Proof.
	FieldProofLinkToken fielderr.Field = "enrollment.Proof.LinkToken"
)

// invalid is ErrInvalid about one input.
func invalid(field fielderr.Field, msg string) *fielderr.Error {
	return fielderr.New(ErrInvalid, field, "%s", msg)
}

// AlreadyEnrolledError is ErrAlreadyEnrolled with the customer it found.
type AlreadyEnrolledError struct{ CustomerID string }

func (e *AlreadyEnrolledError) Error() string { return ErrAlreadyEnrolled.Error() }

// Unwrap returns ErrAlreadyEnrolled.
func (e *AlreadyEnrolledError) Unwrap() error { return ErrAlreadyEnrolled }

// Details names the customer.
func (e *AlreadyEnrolledError) Details() map[string]any {
	return map[string]any{"customer_id": e.CustomerID}
}

// CodeInvalidError is ErrCodeInvalid with the attempts left and the input
// that was wrong (the code or the link token).
type CodeInvalidError struct {
	AttemptsRemaining int
	// Input is the Proof's code or link token.
	fielderr.Input
}

func (e *CodeInvalidError) Error() string { return ErrCodeInvalid.Error() }

// Unwrap returns ErrCodeInvalid.
func (e *CodeInvalidError) Unwrap() error { return ErrCodeInvalid }

// Details gives attempts_remaining.
func (e *CodeInvalidError) Details() map[string]any {
	return map[string]any{"attempts_remaining": e.AttemptsRemaining}
}

// exhaustedError is ErrAttemptsExhausted, saying no attempt is left.
type exhaustedError struct{}

func (exhaustedError) Error() string { return ErrAttemptsExhausted.Error() }
func (exhaustedError) Unwrap() error { return ErrAttemptsExhausted }

// Details gives attempts_remaining, 0.
func (exhaustedError) Details() map[string]any { return map[string]any{"attempts_remaining": 0} }

// WaitError is ErrRateLimited or ErrResendLimitReached with the wait.
type WaitError struct {
	sentinel error
	Wait     time.Duration
}

func (e *WaitError) Error() string { return e.sentinel.Error() }

// Unwrap returns the sentinel.
func (e *WaitError) Unwrap() error { return e.sentinel }

// RetryAfterSeconds is the wait in whole seconds, rounded up (the
// Retry-After header).
func (e *WaitError) RetryAfterSeconds() int { return int(math.Ceil(e.Wait.Seconds())) }

// Details gives retry_after_seconds.
func (e *WaitError) Details() map[string]any {
	return map[string]any{"retry_after_seconds": e.RetryAfterSeconds()}
}

// ProofRequiredError is ErrProofRequired with the verification to finish.
type ProofRequiredError struct{ State State }

func (e *ProofRequiredError) Error() string { return ErrProofRequired.Error() }

// Unwrap returns ErrProofRequired.
func (e *ProofRequiredError) Unwrap() error { return ErrProofRequired }

// Details is the verification state, as VerificationState on the wire.
func (e *ProofRequiredError) Details() map[string]any {
	s := e.State
	return map[string]any{
		"verification_id":     s.VerificationID,
		"expires_at":          s.ExpiresAt.UTC(),
		"attempts_remaining":  s.AttemptsRemaining,
		"resends_remaining":   s.ResendsRemaining,
		"resend_available_at": s.ResendAvailableAt.UTC(),
	}
}
