// Package tracing sets up OpenTelemetry traces: off unless an OTLP endpoint
// is configured with the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, read by the OTLP exporter itself,
// with OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES and the rest), and the log handler that stamps
// trace ids on log lines.
//
// Spans carry ids and bounded values only: operation ids, statuses, error
// codes, SQL text with its parameters as placeholders (never their values),
// job kinds. Never a phone number, a code or a secret.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

var noopProvider = noop.NewTracerProvider()

// ServiceName is the service.name of the spans unless OTEL_SERVICE_NAME
// says otherwise.
const ServiceName = "feddi-partner-api"

// Propagator reads and writes W3C trace context (traceparent, tracestate).
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Enabled says whether the environment configures an OTLP trace endpoint.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns the tracer provider the environment configures: spans
// batched to the OTLP/HTTP endpoint, or nil when no endpoint is set
// (tracing off). Shut the provider down on exit to flush its spans.
func FromEnv(ctx context.Context, version string) (*sdktrace.TracerProvider, error) {
	if !Enabled() {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx) // endpoint, headers, TLS and timeout from OTEL_EXPORTER_OTLP_*
	if err != nil {
		return nil, fmt.Errorf("creating the OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", ServiceName), attribute.String("service.version", version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("describing the service for traces: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER (parent-based, always on,
	// by default).
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)), nil
}

// SQLTracer makes a span of every SQL statement a pool sends, as a child of
// the request's or job's span. It records the statement's text, in which
// arguments are placeholders ($1), and never the argument values
// (otelpgx.WithIncludeQueryParameters stays off), nor the connection's
// details.
func SQLTracer(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		otelpgx.WithDisableConnectionDetailsInAttributes(),
		otelpgx.WithSpanNameFunc(StatementName),
	)
}

// StatementName names a statement's span: its sqlc query name ("-- name:
// PaymentInsert :one" is PaymentInsert), or the first word of other SQL
// (SAVEPOINT, begin, River's queries by their own names).
func StatementName(sql string) string {
	sql = strings.TrimSpace(sql)
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		sql = rest
	}
	name, _, _ := strings.Cut(sql, " ")
	name, _, _ = strings.Cut(name, "\n")
	return name
}

// Provider returns tp, or a provider that records nothing when tp is nil.
func Provider(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return noopProvider
	}
	return tp
}

// LogHandler wraps h so that every record logged with a context holding a
// span carries its trace_id and span_id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
