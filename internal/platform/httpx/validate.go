package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/spec"
)

func route(doc *openapi3.T, op *spec.Operation) *routers.Route {
	return &routers.Route{Spec: doc, Path: op.Path, PathItem: op.PathItem, Method: op.Method, Operation: op.Op}
}

func pathParams(c echo.Context) map[string]string {
	params := map[string]string{}
	for i, name := range c.ParamNames() {
		params[name] = c.ParamValues()[i]
	}
	return params
}

// validate checks the request against the document: parameters, headers and
// body, unknown fields and query parameters included.
func (o *Options) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op := Operation(req.Context())
		if op == nil {
			return next(c)
		}
		if err := rejectUnknownQuery(op, req); err != nil {
			return err
		}
		err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams(c),
			Route:      route(o.Spec.ValidationDoc, op),
			Options: &openapi3filter.Options{
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
				KeepValidatedValue: true,
			},
		})
		if err != nil {
			return translateValidation(err)
		}
		return next(c)
	}
}

func rejectUnknownQuery(op *spec.Operation, req *http.Request) error {
	for name := range req.URL.Query() {
		if findParam(op, openapi3.ParameterInQuery, name) == nil {
			return apierror.New(apierror.ValidationFailed, "unknown query parameter %q", truncate(name, 64)).WithField("/query/" + escapePointer(name))
		}
	}
	return nil
}

func findParam(op *spec.Operation, in, name string) *openapi3.Parameter {
	if p := op.Op.Parameters.GetByInAndName(in, name); p != nil {
		return p
	}
	return op.PathItem.Parameters.GetByInAndName(in, name)
}

// translateValidation turns a validator error into validation_failed with a
// JSON pointer and a short message. Messages never echo the offending value:
// it may be a phone number, a code or a key.
func translateValidation(err error) *apierror.Error {
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return apierror.New(apierror.ValidationFailed, "the request does not match the contract")
	}
	if p := reqErr.Parameter; p != nil {
		field := "/" + p.In + "/" + escapePointer(p.Name)
		if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) || reqErr.Reason == "must have a value" {
			if p.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Name) == HeaderIdempotencyKey {
				return apierror.New(apierror.IdempotencyKeyRequired, "this operation requires an Idempotency-Key header").WithField(field)
			}
			return apierror.New(apierror.ValidationFailed, "%s parameter %s is required", p.In, p.Name).WithField(field)
		}
		_, reason := schemaProblem(reqErr.Err)
		return apierror.New(apierror.ValidationFailed, "%s parameter %s %s", p.In, p.Name, reason).WithField(field)
	}
	if reqErr.RequestBody != nil {
		if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) || strings.Contains(reqErr.Error(), "value is required but missing") {
			return apierror.New(apierror.ValidationFailed, "a request body is required")
		}
		pointer, reason := schemaProblem(reqErr.Err)
		if pointer == "" {
			return apierror.New(apierror.ValidationFailed, "request body %s", reason)
		}
		return apierror.New(apierror.ValidationFailed, "%s %s", pointer, reason).WithField(pointer)
	}
	return apierror.New(apierror.ValidationFailed, "the request does not match the contract")
}

var quotedProperty = regexp.MustCompile(`property "([^"]+)"`)

// schemaProblem finds the first failing value and says what is wrong with it.
func schemaProblem(err error) (pointer, reason string) {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		return schemaProblem(me[0])
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return "", "is invalid"
	}
	// The innermost error names the exact value.
	if se.Origin != nil {
		var inner *openapi3.SchemaError
		var innerMulti openapi3.MultiError
		if errors.As(se.Origin, &innerMulti) && len(innerMulti) > 0 {
			if p, r := schemaProblem(innerMulti[0]); p != "" {
				return p, r
			}
		} else if errors.As(se.Origin, &inner) && inner != se {
			if p, r := schemaProblem(inner); p != "" {
				return p, r
			}
		}
	}
	parts := se.JSONPointer()
	for i := range parts {
		parts[i] = escapePointer(parts[i])
	}
	pointer = ""
	if len(parts) > 0 {
		pointer = "/" + strings.Join(parts, "/")
	}
	child := func(name string) string {
		name = escapePointer(name)
		if strings.HasSuffix(pointer, "/"+name) {
			return pointer
		}
		return pointer + "/" + name
	}
	var ve *jsonschema.ValidationError
	if errors.As(se, &ve) {
		switch k := ve.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			if len(k.Properties) > 0 {
				return child(k.Properties[0]), "is not a known field"
			}
		case *kind.Required:
			if len(k.Missing) > 0 {
				return child(k.Missing[0]), "is required"
			}
		}
	}
	switch se.SchemaField {
	case "additionalProperties", "properties":
		if m := quotedProperty.FindStringSubmatch(se.Reason); m != nil {
			return child(m[1]), "is not a known field"
		}
		return pointer, "has a field that is not known"
	case "required":
		if m := quotedProperty.FindStringSubmatch(se.Reason); m != nil {
			return child(m[1]), "is required"
		}
		return pointer, "misses a required field"
	}
	return pointer, describeKeyword(se)
}

func describeKeyword(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "type":
		if s != nil && s.Type != nil {
			return "must be of type " + strings.Join(s.Type.Slice(), " or ")
		}
		return "has the wrong type"
	case "enum", "const":
		if s != nil && len(s.Enum) > 0 && len(s.Enum) <= 20 {
			vals := make([]string, len(s.Enum))
			for i, v := range s.Enum {
				vals[i] = fmt.Sprint(v)
			}
			return "must be one of: " + strings.Join(vals, ", ")
		}
		return "is not an allowed value"
	case "pattern":
		return "does not have the required format" + formatHint(s)
	case "format":
		if s != nil {
			return "must be a valid " + s.Format
		}
		return "has the wrong format"
	case "minimum", "exclusiveMinimum":
		if s != nil && s.Min != nil {
			return fmt.Sprintf("must be at least %v", *s.Min)
		}
		return "is too small"
	case "maximum", "exclusiveMaximum":
		if s != nil && s.Max != nil {
			return fmt.Sprintf("must be at most %v", *s.Max)
		}
		return "is too large"
	case "minLength":
		return fmt.Sprintf("must be at least %d characters", s.MinLength) + formatHint(s)
	case "maxLength":
		if s != nil && s.MaxLength != nil {
			return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
		}
		return "is too long"
	case "minItems":
		return fmt.Sprintf("must have at least %d items", s.MinItems)
	case "maxItems":
		if s != nil && s.MaxItems != nil {
			return fmt.Sprintf("must have at most %d items", *s.MaxItems)
		}
		return "has too many items"
	case "uniqueItems":
		return "must not repeat items"
	case "oneOf", "anyOf":
		return "does not match any allowed shape"
	}
	return "is invalid"
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// formatHint is what the document says a patterned value looks like, its
// description and example, so that "+49 151 1234" learns that phones are
// E.164 rather than only that its format is wrong.
func formatHint(s *openapi3.Schema) string {
	if s == nil || s.Pattern == "" || s.Description == "" {
		return ""
	}
	hint := ": " + strings.TrimSuffix(strings.ReplaceAll(s.Description, "`", ""), ".")
	if example, ok := s.Example.(string); ok && example != "" {
		hint += ", for example " + example
	}
	return hint
}
