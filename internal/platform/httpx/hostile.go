package httpx

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/ijson"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// refuseHostileInput holds every string of a request to what the database
// and the decoder take at face value (docs/conventions.md, "Request bodies
// are I-JSON"): the body is I-JSON (no duplicate member names, no lone
// surrogates, valid UTF-8) without NUL, and parameters and the values of the
// headers the service reads (readsHeader) are valid UTF-8 without NUL. It runs before authentication and idempotency,
// which read headers into queries, and before validation, which decodes the
// body with Go's lenient decoder.
func (o *Options) refuseHostileInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op := Operation(req.Context())
		if op == nil {
			return next(c)
		}
		for _, name := range slices.Sorted(maps.Keys(req.Header)) {
			if !readsHeader(op, name) {
				continue // a header we never read (a proxy's, a User-Agent) may hold what it likes
			}
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

// alwaysRead are the headers the service reads on every operation: the
// credentials and the request id.
var alwaysRead = map[string]bool{"X-Api-Key": true, "Authorization": true, "X-Request-Id": true}

// readsHeader says whether the service reads the header on op: one of
// alwaysRead, or a header parameter the document gives the operation.
func readsHeader(op *spec.Operation, name string) bool {
	if alwaysRead[name] {
		return true
	}
	for _, params := range []openapi3.Parameters{op.PathItem.Parameters, op.Op.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Value.Name) == name {
				return true
			}
		}
	}
	return false
}
