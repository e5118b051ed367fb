package httpapi

import (
	"errors"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/apierror"
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

	// enrollment, claims

	// payments, identify, checkout, QR
}

// detailer is implemented by domain errors with code-specific figures.
type detailer interface {
	Details() map[string]any
}

// fielder is implemented by domain errors about one input field.
type fielder interface {
	Field() string
}

// MapError translates a domain error through the table.
func MapError(err error) (*apierror.Error, bool) {
	for _, m := range errorTable {
		if !errors.Is(err, m.err) {
			continue
		}
		msg := m.message
		if msg == "" {
			msg = err.Error()
		}
		out := apierror.New(m.code, "%s", msg)
		var d detailer
		if errors.As(err, &d) {
			out.Details = d.Details()
		}
		var f fielder
		if errors.As(err, &f) {
			out.Field = f.Field()
		}
		return out, true
	}
	return nil, false
}

// notImplemented answers an operation whose issue has not landed yet.
func notImplemented(operationID string) error {
	return apierror.New(apierror.NotImplemented, "%s is not available yet on this server", operationID)
}
