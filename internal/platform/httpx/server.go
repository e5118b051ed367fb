package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// MaxBodyBytes is the request body limit of the contract (64 KiB).
const MaxBodyBytes = 64 << 10

// Options wire the conventions to the product.
type Options struct {
	Spec   *spec.Spec
	Logger *slog.Logger
	// Authenticate checks the request's credential against the operation's
	// security requirements and returns the context to serve it with.
	Authenticate func(c echo.Context, op *spec.Operation) (context.Context, error)
	// IdempotencyScope is the credential a key belongs to and its
	// merchant (from the authenticated principal).
	IdempotencyScope func(ctx context.Context) (merchantID, scope string)
	Idempotency      *idempotency.Store
	// MapError translates domain errors to API errors (the one table).
	// Errors it does not know become internal_error.
	MapError func(error) (*apierror.Error, bool)
	// CheckResponse, when set, validates every response against the
	// document and reports each, conforming or not (tests set it).
	CheckResponse func(ResponseCheck)
	// Observe, when set, receives every served request once its response
	// is written (the request metrics).
	Observe func(Observation)
	// Context, when set, derives the context every request is served in
	// (the App hands the domains its metrics through it).
	Context func(context.Context) context.Context
	// TracerProvider makes the span of each request and its SQL and job
	// children; nil records none.
	TracerProvider trace.TracerProvider
}

// New returns an echo server with every convention installed; register the
// generated handlers on it.
func New(opts Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = opts.errorHandler
	e.Use(opts.requestID, opts.accessLog, opts.recoverPanics)
	if opts.CheckResponse != nil {
		e.Use(opts.checkResponses)
	}
	e.Use(opts.operation, opts.readBody, opts.refuseHostileInput, opts.beginKeyed, opts.authenticate, opts.pinVersion, opts.validate, opts.idempotent)
	return e
}

// errorHandler is the one place that writes error envelopes.
func (o *Options) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	apiErr := o.toAPIError(err, c)
	if out := outcomeOf(c.Request().Context()); out != nil {
		out.code = string(apiErr.Code)
	}
	if werr := writeError(c, o.Spec.APIVersion, apiErr); werr != nil {
		o.Logger.Error("writing error response", "request_id", RequestID(c.Request().Context()), "error", werr)
	}
}

func (o *Options) toAPIError(err error, c echo.Context) *apierror.Error {
	var apiErr *apierror.Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	if o.MapError != nil {
		if mapped, ok := o.MapError(err); ok {
			return mapped
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return apierror.New(apierror.NotFound, "no such resource")
		case http.StatusMethodNotAllowed:
			return apierror.New(apierror.MethodNotAllowed, "method not allowed on this path")
		case http.StatusRequestEntityTooLarge:
			return apierror.New(apierror.PayloadTooLarge, "request body exceeds %d bytes", MaxBodyBytes)
		case http.StatusUnsupportedMediaType:
			return apierror.New(apierror.UnsupportedMediaType, "send the body as application/json")
		case http.StatusBadRequest:
			return apierror.New(apierror.ValidationFailed, "the request could not be read")
		}
	}
	ctx := c.Request().Context()
	if dbx.IsUnavailable(err) {
		o.Logger.Warn("database unavailable", "request_id", RequestID(ctx), "error", err)
		return apierror.New(apierror.ServiceUnavailable, "the service cannot reach its database; retry with the same Idempotency-Key")
	}
	level := slog.LevelError
	if errors.Is(err, context.Canceled) {
		level = slog.LevelWarn
	}
	o.Logger.Log(ctx, level, "request failed", "request_id", RequestID(ctx), "error", err)
	return apierror.New(apierror.InternalError, "internal error; quote request id %s to support", RequestID(ctx))
}
