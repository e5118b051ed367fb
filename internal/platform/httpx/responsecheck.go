package httpx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// The document's YAML responses are text (GET /openapi serves its own YAML
// as `type: string`), while kin-openapi decodes application/yaml into a
// value by default. No operation accepts a YAML request, so reading YAML as
// plain text here changes no request check.
func init() {
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
}

// checkResponses validates every response against the document: its status,
// headers and body, and that an error's code is one the operation documents.
// Requests that matched no operation may only answer not_found or
// method_not_allowed.
func (o *Options) checkResponses(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		original := c.Response()
		rec := newRecorder()
		c.SetResponse(echo.NewResponse(rec, c.Echo()))
		if err := next(c); err != nil {
			c.Error(err)
		}
		c.SetResponse(original)
		copyHeader(original.Header(), rec.Header())
		if ct := rec.Header().Get(echo.HeaderContentType); ct != "" {
			original.Header().Set(echo.HeaderContentType, ct)
		}
		op := Operation(c.Request().Context())
		code, problem := o.responseProblem(c, op, rec)
		o.CheckResponse(ResponseCheck{Operation: op, Status: rec.status, Code: code, Problem: problem})
		original.WriteHeader(rec.status)
		_, err := original.Write(rec.body.Bytes())
		return err
	}
}

// ResponseCheck is the verdict on one response.
type ResponseCheck struct {
	Operation *spec.Operation // nil when no route matched
	Status    int
	Code      string // error.code of an error response
	Problem   error  // nil when the response conforms
}

func (o *Options) responseProblem(c echo.Context, op *spec.Operation, rec *recorder) (code string, problem error) {
	code, problem = errorCodeOf(rec)
	if problem == nil {
		problem = o.conformance(c, op, rec, code)
	}
	return code, problem
}

func errorCodeOf(rec *recorder) (string, error) {
	if rec.status < 400 || rec.body.Len() == 0 {
		return "", nil
	}
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &env); err != nil {
		return "", fmt.Errorf("error response is not JSON: %w", err)
	}
	if !isKnownCode(env.Error.Code) {
		return env.Error.Code, fmt.Errorf("error code %q is not in the ErrorCode enum", env.Error.Code)
	}
	return env.Error.Code, nil
}

func (o *Options) conformance(c echo.Context, op *spec.Operation, rec *recorder, code string) error {
	if op == nil {
		if code != string(apierror.NotFound) && code != string(apierror.MethodNotAllowed) {
			return fmt.Errorf("unrouted request answered %d %q", rec.status, code)
		}
		return nil
	}
	if code != "" && !op.MayReturn(code) {
		return fmt.Errorf("%s answered %q, which its x-error-codes do not list", op.ID, code)
	}
	header := http.Header{}
	copyHeader(header, rec.Header())
	header.Set(echo.HeaderContentType, rec.Header().Get(echo.HeaderContentType))
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    c.Request(),
			PathParams: pathParams(c),
			Route:      route(o.Spec.ValidationDoc, op),
		},
		Status: rec.status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(c.Request().Context(), input); err != nil {
		return fmt.Errorf("%s %d does not match the document: %w\nbody: %s", op.ID, rec.status, err, rec.body.String())
	}
	return nil
}

func isKnownCode(code string) bool {
	for _, c := range apierror.Codes() {
		if string(c) == code {
			return true
		}
	}
	return false
}
