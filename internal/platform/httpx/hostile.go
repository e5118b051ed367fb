package httpx

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/ijson"
)

// refuseHostileInput holds every string of a request to what the database
// and the decoder take at face value (docs/conventions.md, "Request bodies
// are I-JSON"): the body is I-JSON (no duplicate member names, no lone
// surrogates, valid UTF-8) without NUL, and parameters and header values are
// valid UTF-8 without NUL. It runs before authentication and idempotency,
// which read headers into queries, and before validation, which decodes the
// body with Go's lenient decoder.
func (o *Options) refuseHostileInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if Operation(req.Context()) == nil {
			return next(c)
		}
		for _, name := range slices.Sorted(maps.Keys(req.Header)) {
			for _, v := range req.Header[name] {
				if reason := textProblem(v); reason != "" {
					return refuse("header", name, reason)
				}
			}
		}
		for i, name := range c.ParamNames() {
			v := c.ParamValues()[i]
			if unescaped, err := url.PathUnescape(v); err == nil {
				v = unescaped
			}
			if reason := textProblem(v); reason != "" {
				return refuse("path", name, reason)
			}
		}
		query := req.URL.Query()
		for _, name := range slices.Sorted(maps.Keys(query)) {
			if reason := textProblem(name); reason != "" {
				return apierror.New(apierror.ValidationFailed, "a query parameter name %s", reason).WithField("/query")
			}
			for _, v := range query[name] {
				if reason := textProblem(v); reason != "" {
					return refuse("query", name, reason)
				}
			}
		}
		if p := ijson.Check(requestBody(c)); p != nil {
			e := apierror.New(apierror.ValidationFailed, "%s", p.Error())
			if p.Pointer != "" {
				e = e.WithField(p.Pointer)
			}
			return e
		}
		return next(c)
	}
}

func refuse(in, name, reason string) error {
	return apierror.New(apierror.ValidationFailed, "%s parameter %s %s", in, truncate(name, 64), reason).
		WithField("/" + in + "/" + escapePointer(name))
}

// textProblem says what makes a parameter or header value unfit to store.
func textProblem(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return ijson.ReasonNUL
	case !utf8.ValidString(s):
		return ijson.ReasonInvalidUTF8
	}
	return ""
}
