package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

// Header names of the conventions.
const (
	HeaderRequestID        = "X-Request-Id"
	HeaderIdempotencyKey   = "Idempotency-Key"
	HeaderIdempotentReplay = "Idempotent-Replayed"
	HeaderAPIVersion       = "Feddi-Api-Version"
)

var wellFormedRequestID = regexp.MustCompile(`^req_[A-Za-z0-9_-]{1,128}$`)

// requestID keeps a well-formed client X-Request-Id or makes one.
func (o *Options) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !wellFormedRequestID.MatchString(id) {
			id = "req_" + ulid.Make().String()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.SetRequest(c.Request().WithContext(withValue(c.Request().Context(), keyRequestID, id)))
		return next(c)
	}
}

// accessLog logs one line per request, reports it to Observe (metrics) and
// wraps it in its span, named by the document operation once the route is
// known (a W3C traceparent header continues the caller's trace). It logs
// and records the route template, never the raw path or query (they can
// hold phone numbers and codes), and no headers. A request's duration is
// measured on the wall clock, not the service clock (docs/architecture.md,
// "Time"): it is infrastructure, and a test that advances the clock must
// not make requests look slow.
func (o *Options) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	tracer := o.tracer() // once, not per request
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		ctx := req.Context()
		if o.Context != nil {
			ctx = o.Context(ctx)
		}
		ctx = tracing.Propagator.Extract(ctx, propagation.HeaderCarrier(req.Header))
		ctx, span := tracer.Start(ctx, "HTTP "+req.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		out := &outcome{}
		c.SetRequest(req.WithContext(withValue(ctx, keyOutcome, out)))
		if err := next(c); err != nil {
			c.Error(err)
		}
		ctx = c.Request().Context()
		status := c.Response().Status
		attrs := []any{
			"request_id", RequestID(ctx),
			"method", c.Request().Method,
			"route", c.Path(),
			"status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		op := Operation(ctx)
		if op != nil {
			attrs = append(attrs, "operation_id", op.ID)
			span.SetName(op.ID)
		}
		span.SetAttributes(
			attribute.String("http.request.method", c.Request().Method),
			attribute.String("http.route", c.Path()),
			attribute.Int("http.response.status_code", status),
			attribute.String("feddi.request_id", RequestID(ctx)),
		)
		if out.code != "" {
			span.SetAttributes(attribute.String("error.code", out.code))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, out.code)
		}
		o.Logger.InfoContext(ctx, "request", attrs...)
		if o.Observe != nil {
			o.Observe(Observation{Operation: op, Status: status, Code: out.code, Duration: time.Since(start), Replayed: out.replayed})
		}
		return nil
	}
}

// Observation is one served request, as Options.Observe receives it.
type Observation struct {
	Operation *spec.Operation // nil when no route matched
	Status    int
	Code      string // the envelope's error.code; empty on success
	Duration  time.Duration
	Replayed  bool // answered with a stored response (Idempotent-Replayed)
}

// outcome collects what the layers below learn about a request's response:
// the error code the error handler wrote or a replay carried.
type outcome struct {
	code     string
	replayed bool
}

func outcomeOf(ctx context.Context) *outcome {
	o, _ := ctx.Value(keyOutcome).(*outcome)
	return o
}

func (o *Options) tracer() trace.Tracer {
	return tracing.Provider(o.TracerProvider).Tracer("github.com/feddi/partner-api/internal/platform/httpx")
}

func (o *Options) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				o.Logger.Error("panic serving request", "request_id", RequestID(c.Request().Context()),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = apierror.New(apierror.InternalError, "internal error; quote request id %s to support", RequestID(c.Request().Context()))
			}
		}()
		return next(c)
	}
}

// operation finds the document operation behind the matched route. Requests
// no route matched go on to echo's not-found and method-not-allowed handlers.
func (o *Options) operation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op, ok := o.Spec.ByRoute(c.Request().Method, c.Path())
		if !ok {
			return next(c)
		}
		ctx := withValue(c.Request().Context(), keyOperation, op)
		// meta.idempotency_key echoes the key from the start, so that a
		// request refused before its key is claimed (validation_failed)
		// still says which key it carried; a malformed key is not echoed.
		if key := c.Request().Header.Get(HeaderIdempotencyKey); op.Idempotency != spec.IdempotencyNone && wellFormedKey(key) {
			ctx = withValue(ctx, keyIdempotencyKey, key)
		}
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// wellFormedKey says whether an Idempotency-Key header is what the document
// allows: 1-255 printable ASCII characters.
func wellFormedKey(key string) bool {
	if key == "" || len(key) > 255 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// readBody enforces the media type and the size limit, checks the body is
// JSON, and keeps its bytes for validation, version pinning and fingerprints.
func (o *Options) readBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if Operation(req.Context()) == nil || !spec.HasBody(req.Method) {
			return next(c)
		}
		if ct := req.Header.Get(echo.HeaderContentType); ct != "" || req.ContentLength > 0 {
			mediaType, _, err := mime.ParseMediaType(ct)
			if err != nil || mediaType != ContentTypeJSON {
				return apierror.New(apierror.UnsupportedMediaType, "send the body as application/json")
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return apierror.New(apierror.PayloadTooLarge, "request body exceeds %d bytes", MaxBodyBytes)
			}
			return apierror.New(apierror.ValidationFailed, "the request body could not be read")
		}
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			return apierror.New(apierror.ValidationFailed, "the request body is not valid JSON")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		c.SetRequest(req.WithContext(withValue(req.Context(), keyBody, body)))
		return next(c)
	}
}

func requestBody(c echo.Context) []byte {
	b, _ := c.Request().Context().Value(keyBody).([]byte)
	return b
}

// beginKeyed opens the transaction of a keyed mutating request before its
// credential is read, so authentication, the idempotency record and the
// effects share one commit (idempotency.Store.Begin). A request refused
// before it executes rolls it back.
func (o *Options) beginKeyed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op := Operation(c.Request().Context())
		if op == nil || op.Idempotency == spec.IdempotencyNone || c.Request().Header.Get(HeaderIdempotencyKey) == "" {
			return next(c)
		}
		ctx, end, err := o.Idempotency.Begin(c.Request().Context())
		if err != nil {
			return err
		}
		defer end()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func (o *Options) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op := Operation(c.Request().Context())
		if op == nil || !op.Authenticated() {
			return next(c)
		}
		ctx, err := o.Authenticate(c, op)
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// pinVersion refuses an api_version the server does not serve. It runs before
// schema validation so that a client pinned to another version learns that
// first, rather than about fields of a contract it does not speak.
func (o *Options) pinVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if Operation(c.Request().Context()) == nil {
			return next(c)
		}
		header := c.Request().Header.Get(HeaderAPIVersion)
		version, field := header, "/header/"+HeaderAPIVersion
		if body := requestBody(c); len(body) > 0 {
			var env struct {
				Meta struct {
					APIVersion *string `json:"api_version"`
				} `json:"meta"`
			}
			if json.Unmarshal(body, &env) == nil && env.Meta.APIVersion != nil {
				version, field = *env.Meta.APIVersion, "/meta/api_version"
			}
		}
		// Two versions that disagree are a mistake to name, not to settle by
		// picking one.
		if header != "" && field == "/meta/api_version" && header != version {
			return apierror.New(apierror.ValidationFailed, "the %s header (%s) and meta.api_version (%s) disagree; send one version, or the same in both",
				HeaderAPIVersion, truncate(header, 32), truncate(version, 32)).WithField("/header/" + HeaderAPIVersion)
		}
		if version != "" && version != o.Spec.APIVersion {
			return apierror.New(apierror.UnsupportedAPIVersion, "api_version %s is not served; this server speaks %s", truncate(version, 32), o.Spec.APIVersion).
				WithField(field).
				WithDetails(map[string]any{"supported_versions": []string{o.Spec.APIVersion}})
		}
		return next(c)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// idempotent runs keyed mutating requests through the idempotency store: the
// handler runs inside the store's transaction, and its response, buffered, is
// stored with its effects before anything reaches the client.
func (o *Options) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		op := Operation(ctx)
		if op == nil || op.Idempotency == spec.IdempotencyNone {
			return next(c)
		}
		key := c.Request().Header.Get(HeaderIdempotencyKey)
		if key == "" {
			if op.Idempotency == spec.IdempotencyRequired {
				return apierror.New(apierror.IdempotencyKeyRequired, "this operation requires an Idempotency-Key header").WithField("/header/" + HeaderIdempotencyKey)
			}
			return next(c)
		}
		body := requestBody(c)
		fingerprint, err := idempotency.Fingerprint(c.Request().Method, c.Request().URL.Path, body)
		if err != nil {
			return apierror.New(apierror.ValidationFailed, "the request body is not valid JSON")
		}
		ctx = withValue(ctx, keyIdempotencyKey, key)
		original := c.Response()
		merchantID, scope := o.IdempotencyScope(ctx)
		res, replayed, err := o.Idempotency.Execute(ctx, idempotency.Request{
			MerchantID: merchantID, Scope: scope, Key: key, OperationID: op.ID, Fingerprint: fingerprint,
		}, func(txCtx context.Context) (idempotency.Result, error) {
			rec := newRecorder()
			c.SetResponse(echo.NewResponse(rec, c.Echo()))
			c.Request().Body = io.NopCloser(bytes.NewReader(body))
			c.SetRequest(c.Request().WithContext(txCtx))
			if err := next(c); err != nil {
				if dbx.IsRetryable(err) {
					return idempotency.Result{}, err
				}
				c.Error(err)
			}
			copyHeader(original.Header(), rec.Header())
			return idempotency.Result{Status: rec.status, Body: rec.body.Bytes()}, nil
		})
		c.SetResponse(original)
		switch {
		case errors.Is(err, idempotency.ErrInProgress):
			return apierror.New(apierror.IdempotencyInProgress, "a request with this Idempotency-Key is still being processed; retry shortly")
		case errors.Is(err, idempotency.ErrKeyReused):
			return apierror.New(apierror.IdempotencyKeyReused, "this Idempotency-Key was already used for a different request").WithField("/header/" + HeaderIdempotencyKey)
		case err != nil:
			return err
		}
		out := res.Body
		if replayed {
			if out, err = idempotency.MarkReplay(res.Body, RequestID(ctx)); err != nil {
				return err
			}
			original.Header().Set(HeaderIdempotentReplay, "true")
			if out := outcomeOf(ctx); out != nil {
				out.replayed = true
				out.code = storedErrorCode(res)
			}
		}
		return c.Blob(res.Status, ContentTypeJSON, out)
	}
}

// storedErrorCode is the error.code of a stored error response; empty for a
// success.
func storedErrorCode(res idempotency.Result) string {
	if res.Status < 400 {
		return ""
	}
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(res.Body, &env) // a body that is not an envelope has no code
	return env.Error.Code
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		if k == echo.HeaderContentType || k == echo.HeaderContentLength {
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}

// recorder buffers a response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
