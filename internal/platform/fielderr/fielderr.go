// Package fielderr is the one error about one input of a domain call. A
// domain names the input in its own terms (a Field); the HTTP layer turns
// that into the JSON pointer of the request document
// (internal/httpapi/fields.go, the one table of pointers). A renamed
// document field then changes that table and its test, not the domains.
package fielderr

import (
	"fmt"
	"strings"
)

// Field names an input in the domain's own terms, as Go names it: the
// package, the domain's input type (or, for an input passed as a plain
// parameter, the function and the parameter), and the field path within
// it, dotted:
//
//	payments.Request.Credential.Phone
//	enrollment.Enrollee.WelcomeGrant.Amount
//	auth.IssueToken.scopes[]
//	enrollment.Target                (the input as a whole)
//
// "[]" stands for an element of a list; the error carries its index
// (Input.Index, in order of the "[]"s). Each domain declares its fields as
// constants, so that the HTTP layer's table and its test can list them.
type Field string

// Input is the input an error is about: the field and the list indexes
// that fill its "[]"s. Embed it in a domain error that carries figures of
// its own; *Error embeds it too.
type Input struct {
	Field Field
	Index []int
}

// InputField says which input is at fault.
func (i Input) InputField() Input { return i }

// Path is the field with its indexes filled in (Tiers[3].MaxBonus), for
// logs and tests.
func (i Input) Path() string {
	s := string(i.Field)
	for _, n := range i.Index {
		s = strings.Replace(s, "[]", fmt.Sprintf("[%d]", n), 1)
	}
	return s
}

// Fielder is implemented by every error about one input: *Error, and the
// domain errors that embed Input.
type Fielder interface {
	InputField() Input
}

// Error says that one input is not acceptable. It unwraps to the domain's
// sentinel, so errors.Is(err, topup.ErrInvalid) holds and the HTTP layer
// maps it to the same code; a package-level *Error with no sentinel is a
// sentinel itself.
type Error struct {
	Input
	// Sentinel is the domain's error this one is an instance of.
	Sentinel error
	// Msg is the message for the client (never personal data).
	Msg     string
	details map[string]any
	// NamedFirst: the client's message names the input before Msg, as
	// the request writes it ("/data/name must be 1 to 64 characters");
	// the HTTP layer writes that name.
	NamedFirst bool
}

// New returns an error about field, an instance of sentinel.
func New(sentinel error, field Field, format string, args ...any) *Error {
	return &Error{Input: Input{Field: field}, Sentinel: sentinel, Msg: fmt.Sprintf(format, args...)}
}

// At fills the "[]"s of the field with the indexes of the list elements.
func (e *Error) At(index ...int) *Error {
	e.Index = index
	return e
}

// Error is the message, preceded by the field in the domain's terms when
// NamedFirst.
func (e *Error) Error() string {
	if e.NamedFirst {
		return e.Path() + " " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Sentinel }

// WithDetails attaches code-specific figures (exclusive_scopes).
func (e *Error) WithDetails(details map[string]any) *Error {
	e.details = details
	return e
}

// Details are the code-specific figures, nil when none.
func (e *Error) Details() map[string]any { return e.details }
