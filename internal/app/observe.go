package app

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/httpapi"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

// observability is what New wires for metrics and traces: the App's
// metrics, the River middleware (job counts by kind and outcome, a span
// per job continuing the trace that queued it) and the HTTP layer's hooks.
type observability struct {
	metrics *metrics.Set
	jobs    []rivertype.Middleware
	tracer  trace.TracerProvider
}

func newObservability(pool *pgxpool.Pool, tp trace.TracerProvider) observability {
	set := metrics.New(pool)
	tp = tracing.Provider(tp)
	return observability{
		metrics: set,
		tracer:  tp,
		jobs: []rivertype.Middleware{
			otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
				TracerProvider: tp,
				// Job metrics are Prometheus's (metrics.JobMiddleware);
				// otelriver's own stay off.
				MeterProvider:               metricnoop.NewMeterProvider(),
				EnableTracePropagation:      true,
				EnableWorkSpanJobKindSuffix: true,
			}),
			set.JobMiddleware(),
		},
	}
}

// handlerOptions are the HTTP handler's options with the hooks of metrics
// and traces.
func (o observability) handlerOptions(logger *slog.Logger, check func(httpx.ResponseCheck)) httpapi.HandlerOptions {
	return httpapi.HandlerOptions{
		Logger: logger, CheckResponse: check,
		Observe: o.observe, Context: o.requestContext, TracerProvider: o.tracer,
	}
}

// observe reports a served request to the metrics.
func (o observability) observe(r httpx.Observation) {
	req := metrics.Request{Status: r.Status, ErrorCode: r.Code, Duration: r.Duration, Replayed: r.Replayed}
	if r.Operation != nil {
		req.OperationID = r.Operation.ID
	}
	o.metrics.ObserveRequest(req)
}

// requestContext hands the metrics to the domains serving a request.
func (o observability) requestContext(ctx context.Context) context.Context {
	return metrics.WithSet(ctx, o.metrics)
}
