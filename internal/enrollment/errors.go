package enrollment

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/feddi/partner-api/internal/platform/spell"
)

// The errors of the package; callers test them with errors.Is and read
// their figures through the typed errors below. Their text is written for
// the client and never holds a phone number or a code.
var (
	// ErrInvalid: an input is not acceptable (InvalidError names it).
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

// InvalidError is ErrInvalid about one input.
type InvalidError struct {
	field, msg string
}

func invalid(field, msg string) *InvalidError { return &InvalidError{field: field, msg: msg} }

func (e *InvalidError) Error() string { return e.msg }

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Field is the JSON pointer of the input at fault.
func (e *InvalidError) Field() string { return e.field }

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
	field             string
}

func (e *CodeInvalidError) Error() string { return ErrCodeInvalid.Error() }

// Unwrap returns ErrCodeInvalid.
func (e *CodeInvalidError) Unwrap() error { return ErrCodeInvalid }

// Field is /data/code or /data/link_token.
func (e *CodeInvalidError) Field() string { return e.field }

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
