package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/feddi/partner-api/internal/platform/tracing"
)

func TestLogLinesCarryTheTraceID(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(&out, nil))).With("component", "test")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "work")
	defer span.End()

	logger.InfoContext(ctx, "inside a span")
	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line))
	require.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
	require.Equal(t, span.SpanContext().SpanID().String(), line["span_id"])
	require.Equal(t, "test", line["component"], "attributes given to With stay")

	out.Reset()
	logger.InfoContext(context.Background(), "outside")
	line = nil
	require.NoError(t, json.Unmarshal(out.Bytes(), &line))
	require.NotContains(t, line, "trace_id")
}

func TestStatementName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "PaymentInsert", tracing.StatementName("-- name: PaymentInsert :one\nINSERT INTO payments ..."))
	require.Equal(t, "SAVEPOINT", tracing.StatementName("SAVEPOINT dbx_1"))
	require.Equal(t, "begin", tracing.StatementName("begin"))
}
