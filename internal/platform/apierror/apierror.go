// Package apierror defines the typed error every response carries: a code from
// the one ErrorCode enum of the OpenAPI document, its HTTP status, and whether a
// client may retry. Domain packages never import it; the HTTP layer maps their
// errors here in one table.
package apierror

import (
	"fmt"
	"net/http"
)

// Code is a value of the document's ErrorCode enum. A test checks that this
// list and the enum are the same set.
type Code string

// The codes, in the order of the contract book.
const (
	ValidationFailed               Code = "validation_failed"
	UnsupportedAPIVersion          Code = "unsupported_api_version"
	IdempotencyKeyRequired         Code = "idempotency_key_required"
	IdempotencyKeyReused           Code = "idempotency_key_reused"
	IdempotencyInProgress          Code = "idempotency_in_progress"
	Unauthenticated                Code = "unauthenticated"
	TokenExpired                   Code = "token_expired"
	KeyRevoked                     Code = "key_revoked"
	Forbidden                      Code = "forbidden"
	OperationNotEnabled            Code = "operation_not_enabled"
	NotFound                       Code = "not_found"
	CustomerNotFound               Code = "customer_not_found"
	MethodNotAllowed               Code = "method_not_allowed"
	PayloadTooLarge                Code = "payload_too_large"
	UnsupportedMediaType           Code = "unsupported_media_type"
	RateLimited                    Code = "rate_limited"
	InsufficientFunds              Code = "insufficient_funds"
	CredentialInvalid              Code = "credential_invalid"
	OTPRequired                    Code = "otp_required"
	OTPInvalid                     Code = "otp_invalid"
	OTPAttemptsExhausted           Code = "otp_attempts_exhausted"
	WalletNotVerified              Code = "wallet_not_verified"
	AlreadyEnrolled                Code = "already_enrolled"
	ProofRequired                  Code = "proof_required"
	VerificationCodeInvalid        Code = "verification_code_invalid"
	VerificationExpired            Code = "verification_expired"
	VerificationAttemptsExhausted  Code = "verification_attempts_exhausted"
	ResendLimitReached             Code = "resend_limit_reached"
	CurrencyNotSupported           Code = "currency_not_supported"
	AmountInvalid                  Code = "amount_invalid"
	PaymentStateConflict           Code = "payment_state_conflict"
	CaptureExceedsAuthorized       Code = "capture_exceeds_authorized"
	RefundExceedsCaptured          Code = "refund_exceeds_captured"
	SettlementReferenceAlreadyUsed Code = "settlement_reference_already_used"
	SKUNotFound                    Code = "sku_not_found"
	GrantStateConflict             Code = "grant_state_conflict"
	CheckoutSessionClosed          Code = "checkout_session_closed"
	NotImplemented                 Code = "not_implemented"
	InternalError                  Code = "internal_error"
	ServiceUnavailable             Code = "service_unavailable"
)

type codeInfo struct {
	status    int
	retryable bool
}

// table is the one place that gives every code its HTTP status.
var table = map[Code]codeInfo{
	ValidationFailed:               {http.StatusBadRequest, false},
	UnsupportedAPIVersion:          {http.StatusBadRequest, false},
	IdempotencyKeyRequired:         {http.StatusBadRequest, false},
	IdempotencyKeyReused:           {http.StatusUnprocessableEntity, false},
	IdempotencyInProgress:          {http.StatusConflict, true},
	Unauthenticated:                {http.StatusUnauthorized, false},
	TokenExpired:                   {http.StatusUnauthorized, false},
	KeyRevoked:                     {http.StatusUnauthorized, false},
	Forbidden:                      {http.StatusForbidden, false},
	OperationNotEnabled:            {http.StatusForbidden, false},
	NotFound:                       {http.StatusNotFound, false},
	CustomerNotFound:               {http.StatusNotFound, false},
	MethodNotAllowed:               {http.StatusMethodNotAllowed, false},
	PayloadTooLarge:                {http.StatusRequestEntityTooLarge, false},
	UnsupportedMediaType:           {http.StatusUnsupportedMediaType, false},
	RateLimited:                    {http.StatusTooManyRequests, true},
	InsufficientFunds:              {http.StatusPaymentRequired, false},
	CredentialInvalid:              {http.StatusUnprocessableEntity, false},
	OTPRequired:                    {http.StatusPaymentRequired, false},
	OTPInvalid:                     {http.StatusUnprocessableEntity, false},
	OTPAttemptsExhausted:           {http.StatusTooManyRequests, false},
	WalletNotVerified:              {http.StatusConflict, false},
	AlreadyEnrolled:                {http.StatusConflict, false},
	ProofRequired:                  {http.StatusConflict, false},
	VerificationCodeInvalid:        {http.StatusUnprocessableEntity, false},
	VerificationExpired:            {http.StatusGone, false},
	VerificationAttemptsExhausted:  {http.StatusTooManyRequests, false},
	ResendLimitReached:             {http.StatusTooManyRequests, false},
	CurrencyNotSupported:           {http.StatusUnprocessableEntity, false},
	AmountInvalid:                  {http.StatusUnprocessableEntity, false},
	PaymentStateConflict:           {http.StatusConflict, false},
	CaptureExceedsAuthorized:       {http.StatusUnprocessableEntity, false},
	RefundExceedsCaptured:          {http.StatusUnprocessableEntity, false},
	SettlementReferenceAlreadyUsed: {http.StatusConflict, false},
	SKUNotFound:                    {http.StatusNotFound, false},
	GrantStateConflict:             {http.StatusConflict, false},
	CheckoutSessionClosed:          {http.StatusConflict, false},
	NotImplemented:                 {http.StatusNotImplemented, false},
	InternalError:                  {http.StatusInternalServerError, true},
	ServiceUnavailable:             {http.StatusServiceUnavailable, true},
}

// Codes returns every code the server can emit.
func Codes() []Code {
	out := make([]Code, 0, len(table))
	for c := range table {
		out = append(out, c)
	}
	return out
}

// Status is the HTTP status that goes with the code.
func (c Code) Status() int {
	if info, ok := table[c]; ok {
		return info.status
	}
	return http.StatusInternalServerError
}

// Retryable says whether the same request may succeed later unchanged.
func (c Code) Retryable() bool { return table[c].retryable }

// Error is an error the API reports to its client as is.
type Error struct {
	Code    Code
	Message string
	// Field is a JSON pointer into the request, when one input is at fault.
	Field string
	// Details carries code-specific figures (shortfall, attempts remaining, ...).
	Details map[string]any
	// Header holds response headers that belong to the error (Retry-After).
	Header http.Header
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// New returns an API error with a message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithField sets the JSON pointer of the offending input.
func (e *Error) WithField(pointer string) *Error { e.Field = pointer; return e }

// WithDetails attaches code-specific details.
func (e *Error) WithDetails(d map[string]any) *Error { e.Details = d; return e }
