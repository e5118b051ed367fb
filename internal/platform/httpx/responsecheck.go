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
		o.CheckResponse(op, rec.status, o.responseProblem(c, op, rec))
		original.WriteHeader(rec.status)
		_, err := original.Write(rec.body.Bytes())
		return err
	}
}

func (o *Options) responseProblem(c echo.Context, op *spec.Operation, rec *recorder) error {
	code := ""
	if rec.status >= 400 && rec.body.Len() > 0 {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.body.Bytes(), &env); err != nil {
			return fmt.Errorf("error response is not JSON: %w", err)
		}
		code = env.Error.Code
		if !isKnownCode(code) {
			return fmt.Errorf("error code %q is not in the ErrorCode enum", code)
		}
	}
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
			Route:      route(o.Spec.Doc, op),
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
