package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/gen/api"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/platform/httpx"
)

type httpRequestKey struct{}

// Register mounts every operation of the document on e.
func Register(e *echo.Echo, s *Server) {
	api.RegisterHandlers(e, api.NewStrictHandler(s, []api.StrictMiddlewareFunc{keepHTTPRequest}))
}

// keepHTTPRequest lets the few handlers that need a raw header which the
// document does not model (Accept on GET /openapi) read it.
func keepHTTPRequest(next api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), httpRequestKey{}, r)))
		return next(c, request)
	}
}

func httpRequest(ctx context.Context) *http.Request {
	r, _ := ctx.Value(httpRequestKey{}).(*http.Request)
	return r
}

// HandlerOptions tune the HTTP handler.
type HandlerOptions struct {
	Logger *slog.Logger
	// CheckResponse, when set, receives every response's conformance to the
	// document (nil problem when it conforms).
	CheckResponse func(httpx.ResponseCheck)
	// Observe, Context and TracerProvider: see httpx.Options.
	Observe        func(httpx.Observation)
	Context        func(context.Context) context.Context
	TracerProvider trace.TracerProvider
}

// NewHandler returns the complete HTTP handler: the conventions of httpx
// around every operation of s.
func NewHandler(s *Server, opts HandlerOptions) *echo.Echo {
	e := httpx.New(httpx.Options{
		Spec:             s.Spec,
		Logger:           opts.Logger,
		Authenticate:     s.authenticate,
		IdempotencyScope: s.idempotencyScope,
		Idempotency:      s.Idempotency,
		MapError:         MapError,
		CheckResponse:    opts.CheckResponse,
		Observe:          opts.Observe,
		Context:          opts.Context,
		TracerProvider:   opts.TracerProvider,
	})
	Register(e, s)
	return e
}
