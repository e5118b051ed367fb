package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
	"github.com/feddi/partner-api/internal/platform/spell"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/wallets"
	"github.com/feddi/partner-api/internal/webhooks"
)

// errorMapping gives a domain error its API code. Message is the text clients
// see; when empty the domain error's own text is used (domain messages are
// written for clients and never carry personal data).
type errorMapping struct {
	err     error
	code    apierror.Code
	message string
}

// errorTable is the ONE table from domain errors to error codes. The HTTP
// status comes with the code (apierror). Errors that carry figures implement
// detailer and their details travel with them.
var errorTable = []errorMapping{
	// auth
	{err: auth.ErrUnauthenticated, code: apierror.Unauthenticated},
	{err: auth.ErrTokenExpired, code: apierror.TokenExpired},
	{err: auth.ErrKeyRevoked, code: apierror.KeyRevoked},
	{err: auth.ErrOperationNotEnabled, code: apierror.OperationNotEnabled},
	{err: auth.ErrForbidden, code: apierror.Forbidden}, // scope escalation included
	{err: auth.ErrNotFound, code: apierror.NotFound},
	{err: auth.ErrInvalid, code: apierror.ValidationFailed},

	// ledger, top-ups, grants, transactions
	{err: wallets.ErrNotFound, code: apierror.NotFound, message: "No such wallet."},
	{err: customers.ErrNotFound, code: apierror.NotFound, message: "No such customer."},
	{err: grants.ErrNotFound, code: apierror.NotFound, message: "No such grant."},
	{err: transactions.ErrNotFound, code: apierror.NotFound, message: "No such transaction."},
	{err: events.ErrNotFound, code: apierror.NotFound, message: "No such event."},
	{err: webhooks.ErrNotFound, code: apierror.NotFound, message: "No such webhook endpoint."},
	{err: ledger.ErrNotFound, code: apierror.NotFound, message: "No such transaction."},
	{err: topup.ErrConfigNotFound, code: apierror.NotFound, message: "No reload-bonus configuration for this currency."},
	{err: wallets.ErrNotVerified, code: apierror.WalletNotVerified, message: "The wallet is still pending_proof; finish enrollment first."},
	{err: wallets.ErrCurrencyNotSupported, code: apierror.CurrencyNotSupported},
	{err: wallets.ErrBalanceCeiling, code: apierror.AmountInvalid},
	{err: topup.ErrSettlementReferenceUsed, code: apierror.SettlementReferenceAlreadyUsed},
	{err: topup.ErrSkuNotFound, code: apierror.SKUNotFound},
	{err: topup.ErrInvalid, code: apierror.ValidationFailed},
	{err: grants.ErrStateConflict, code: apierror.GrantStateConflict},
	{err: keyset.ErrInvalid, code: apierror.ValidationFailed},
	{err: transactions.ErrInvalidRange, code: apierror.ValidationFailed},
	{err: events.ErrInvalidRange, code: apierror.ValidationFailed},
	{err: webhooks.ErrInvalid, code: apierror.ValidationFailed},

	// enrollment, claims
	{err: enrollment.ErrInvalid, code: apierror.ValidationFailed},
	{err: enrollment.ErrNotFound, code: apierror.NotFound, message: "No pending verification matches this verification_id or phone."},
	{err: enrollment.ErrWalletNotFound, code: apierror.NotFound, message: "No such wallet."},
	{err: enrollment.ErrAlreadyEnrolled, code: apierror.AlreadyEnrolled, message: "This phone already has a verified wallet."},
	{err: enrollment.ErrCodeInvalid, code: apierror.VerificationCodeInvalid, message: "The verification code is not correct."},
	{err: enrollment.ErrExpired, code: apierror.VerificationExpired, message: "The verification code has expired; ask for a new one with POST /enroll/resend."},
	{err: enrollment.ErrAttemptsExhausted, code: apierror.VerificationAttemptsExhausted, message: fmt.Sprintf("%s wrong codes: ask for a new one with POST /enroll/resend.", spell.Capitalized(enrollment.MaxAttempts))},
	{err: enrollment.ErrRateLimited, code: apierror.RateLimited, message: "Wait before asking for another code."},
	{err: enrollment.ErrResendLimitReached, code: apierror.ResendLimitReached, message: fmt.Sprintf("No more resends for now: %d were sent in the last %d hours.", enrollment.MaxResends, int(enrollment.ResendWindow/time.Hour))},
	{err: enrollment.ErrProofRequired, code: apierror.ProofRequired, message: "The wallet's phone is not verified yet; finish enrollment with POST /enroll/verify."},
	{err: sms.ErrSandboxOnly, code: apierror.OperationNotEnabled, message: "Sandbox messages are not available in live."},
	{err: sms.ErrInvalidCursor, code: apierror.ValidationFailed, message: "The cursor is not one of this listing."},

	// payments, identify, checkout, QR
	{err: payments.ErrNotFound, code: apierror.NotFound, message: "No such payment."},
	{err: checkout.ErrNotFound, code: apierror.NotFound, message: "No such checkout session."},
	{err: identity.ErrCustomerNotFound, code: apierror.CustomerNotFound, message: "No customer matches this credential."},
	{err: identity.ErrInvalid, code: apierror.ValidationFailed},
	{err: ratelimit.ErrLimited, code: apierror.RateLimited},
	{err: qr.ErrCredentialInvalid, code: apierror.CredentialInvalid},
	{err: payments.ErrCredentialInvalid, code: apierror.CredentialInvalid},
	{err: payments.ErrCredentialMalformed, code: apierror.ValidationFailed},
	{err: payments.ErrAmountWithClose, code: apierror.ValidationFailed},
	{err: payments.ErrInsufficientFunds, code: apierror.InsufficientFunds},
	{err: payments.ErrOTPRequired, code: apierror.OTPRequired},
	{err: payments.ErrOTPInvalid, code: apierror.OTPInvalid},
	{err: payments.ErrOTPAttemptsExhausted, code: apierror.OTPAttemptsExhausted},
	{err: payments.ErrStateConflict, code: apierror.PaymentStateConflict},
	{err: payments.ErrCaptureExceedsAuthorized, code: apierror.CaptureExceedsAuthorized},
	{err: payments.ErrRefundExceedsCaptured, code: apierror.RefundExceedsCaptured},
	{err: payments.ErrRefundOverCeiling, code: apierror.AmountInvalid},
	{err: checkout.ErrClosed, code: apierror.CheckoutSessionClosed},
	{err: checkout.ErrAmountMismatch, code: apierror.AmountInvalid},
	{err: checkout.ErrCurrencyMismatch, code: apierror.ValidationFailed},
	{err: checkout.ErrPartialAuthorization, code: apierror.ValidationFailed},
}

// detailer is implemented by domain errors with code-specific figures.
type detailer interface {
	Details() map[string]any
}

// retryAfterer is implemented by domain errors that say when to try again
// (rate_limited); the Retry-After header carries it.
type retryAfterer interface {
	RetryAfterSeconds() int
}

// MapError translates a domain error through the table; the input at
// fault, which the domain names in its own terms, becomes the request's JSON
// pointer through fieldPointers (fields.go).
func MapError(err error) (*apierror.Error, bool) {
	for _, m := range errorTable {
		if !errors.Is(err, m.err) {
			continue
		}
		msg := m.message
		if msg == "" {
			msg = err.Error()
			// A message that names its input names it as the request
			// writes it, not in the domain's terms.
			var fe *fielderr.Error
			if errors.As(err, &fe) && fe.NamedFirst {
				msg = strings.Replace(msg, fe.Error(), pointerOf(fe.Input)+" "+fe.Msg, 1)
			}
		}
		out := apierror.New(m.code, "%s", msg)
		var d detailer
		if errors.As(err, &d) {
			out.Details = d.Details()
		}
		var f fielderr.Fielder
		if errors.As(err, &f) {
			out.Field = pointerOf(f.InputField())
		}
		var ra retryAfterer
		if errors.As(err, &ra) {
			out.Header = http.Header{"Retry-After": {strconv.Itoa(ra.RetryAfterSeconds())}}
		}
		return out, true
	}
	return nil, false
}
