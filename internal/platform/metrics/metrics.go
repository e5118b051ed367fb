// Package metrics is the service's Prometheus registry: requests by
// operation, status and error code; the database pool; River jobs by kind
// and outcome; the business counters (payments, money by class, SMS); and
// build info. One Set per App, served on the admin listener (/metrics).
//
// Labels hold bounded values only: operation ids, statuses, error codes,
// job kinds, currencies, money classes, SMS kinds. Never a phone number, a
// code, a secret, or a per-customer or per-payment id.
//
// Business counters count committed effects only: they are incremented
// through dbx.AfterCommit, after the transaction that made the effect
// commits, so a rolled-back or retried attempt counts nothing.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/feddi/partner-api/internal/platform/dbx"
)

// Namespace prefixes every metric of the service.
const Namespace = "feddi"

// Money classes, the class label of the money counters.
const (
	ClassActual = "actual"
	ClassPromo  = "promo"
)

// Payment outcomes, the outcome label of feddi_payments_total.
const (
	PaymentAuthorized = "authorized" // manual capture: held, to be captured
	PaymentCaptured   = "captured"   // automatic capture: paid at once
	PaymentDeclined   = "declined"
)

// SMS outcomes, the outcome label of feddi_sms_total.
const (
	SMSSent   = "sent"
	SMSFailed = "failed"
)

// Set is the registry of one App and its collectors.
type Set struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	replays         *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec

	jobs        *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec

	payments        *prometheus.CounterVec
	moneyAuthorized *prometheus.CounterVec
	moneyCaptured   *prometheus.CounterVec
	moneyToppedUp   *prometheus.CounterVec
	sms             *prometheus.CounterVec
}

// New returns a Set with every collector registered: the service's own,
// the pool's (when pool is not nil), Go's runtime, the process and the
// build info.
func New(pool *pgxpool.Pool) *Set {
	s := &Set{Registry: prometheus.NewRegistry()}
	httpLabels := []string{"operation_id", "status", "error_code"}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests served, by document operation, status and error.code (empty on success).",
	}, httpLabels)
	s.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time from a request's arrival to its response, by operation, status and error.code.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, httpLabels)
	s.replays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "idempotent_replays_total",
		Help: "Keyed requests answered with the stored response of an earlier request.",
	}, []string{"operation_id"})
	s.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rate_limit_refusals_total",
		Help: "Requests refused with rate_limited (guess, lookup and SMS limits).",
	}, []string{"operation_id"})
	s.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "river_jobs_total",
		Help: "River jobs worked, by kind and outcome (completed, retryable, discarded, snoozed, cancelled, panicked).",
	}, []string{"kind", "outcome"})
	s.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "river_job_duration_seconds",
		Help:    "Time spent working a River job, by kind and outcome.",
		Buckets: []float64{.005, .01, .05, .1, .5, 1, 5, 10, 30, 60},
	}, []string{"kind", "outcome"})
	s.payments = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "payments_total",
		Help: "Payment attempts that committed, by outcome (authorized, captured, declined) and decline code.",
	}, []string{"outcome", "decline_code"})
	money := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: name, Help: help + ", in minor units, by currency and money class (actual, promo).",
		}, []string{"currency", "class"})
	}
	s.moneyAuthorized = money("money_authorized_minor_total", "Money authorized by payments")
	s.moneyCaptured = money("money_captured_minor_total", "Money captured by payments")
	s.moneyToppedUp = money("money_topped_up_minor_total", "Money credited by top-ups (actual) and their reload bonuses (promo)")
	s.sms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "sms_total",
		Help: "SMS delivery attempts, by kind and outcome (sent, failed).",
	}, []string{"kind", "outcome"})

	s.Registry.MustRegister(
		s.requests, s.requestDuration, s.replays, s.rateLimited,
		s.jobs, s.jobDuration,
		s.payments, s.moneyAuthorized, s.moneyCaptured, s.moneyToppedUp, s.sms,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: Namespace}),
		collectors.NewBuildInfoCollector(),
	)
	if pool != nil {
		s.Registry.MustRegister(newPoolCollector(pool))
	}
	return s
}

// Request is one served HTTP request, as the HTTP layer reports it.
type Request struct {
	OperationID string // empty when no route matched
	Status      int
	ErrorCode   string // the envelope's error.code; empty on success
	Duration    time.Duration
	Replayed    bool
}

// rateLimitedCode is the error.code of a rate-limit refusal.
const rateLimitedCode = "rate_limited"

// ObserveRequest counts one request. A refusal answered as a response
// (rate_limited) and a replay are facts of the response itself, so they
// are counted here rather than in the domains.
func (s *Set) ObserveRequest(r Request) {
	if s == nil {
		return
	}
	op := r.OperationID
	if op == "" {
		op = "unrouted" // one series for every path no route matched: paths are unbounded
	}
	status := strconv.Itoa(r.Status)
	s.requests.WithLabelValues(op, status, r.ErrorCode).Inc()
	s.requestDuration.WithLabelValues(op, status, r.ErrorCode).Observe(r.Duration.Seconds())
	if r.Replayed {
		s.replays.WithLabelValues(op).Inc()
	}
	if r.ErrorCode == rateLimitedCode && !r.Replayed {
		s.rateLimited.WithLabelValues(op).Inc()
	}
}

// Money is an amount split by class, in minor units of Currency.
type Money struct {
	Currency      string
	Actual, Promo int64
}

func add(c *prometheus.CounterVec, m Money) {
	if m.Actual > 0 {
		c.WithLabelValues(m.Currency, ClassActual).Add(float64(m.Actual))
	}
	if m.Promo > 0 {
		c.WithLabelValues(m.Currency, ClassPromo).Add(float64(m.Promo))
	}
}

// PaymentAuthorized counts a payment that authorized m, once ctx's work
// commits; captured says it was captured at once (automatic capture).
func (s *Set) PaymentAuthorized(ctx context.Context, m Money, captured bool) {
	if s == nil {
		return
	}
	dbx.AfterCommit(ctx, func() {
		outcome := PaymentAuthorized
		add(s.moneyAuthorized, m)
		if captured {
			outcome = PaymentCaptured
			add(s.moneyCaptured, m)
		}
		s.payments.WithLabelValues(outcome, "").Inc()
	})
}

// PaymentDeclined counts a payment refused for code (the decline's name,
// such as insufficient_funds), once the refusal commits.
func (s *Set) PaymentDeclined(ctx context.Context, code string) {
	if s == nil {
		return
	}
	dbx.AfterCommit(ctx, func() { s.payments.WithLabelValues(PaymentDeclined, code).Inc() })
}

// PaymentCaptured counts money captured from an authorization, once ctx's
// work commits.
func (s *Set) PaymentCaptured(ctx context.Context, m Money) {
	if s == nil {
		return
	}
	dbx.AfterCommit(ctx, func() { add(s.moneyCaptured, m) })
}

// ToppedUp counts a top-up's credit (actual) and its bonus (promo), once
// ctx's work commits.
func (s *Set) ToppedUp(ctx context.Context, m Money) {
	if s == nil {
		return
	}
	dbx.AfterCommit(ctx, func() { add(s.moneyToppedUp, m) })
}

// SMS counts one delivery attempt of a message of kind (enrollment, otp).
func (s *Set) SMS(kind, outcome string) {
	if s == nil {
		return
	}
	s.sms.WithLabelValues(kind, outcome).Inc()
}

type ctxKey struct{}

// WithSet returns a context that carries s to the domains' code below it
// (requests and River jobs): the domains count through From(ctx) and keep
// their constructors.
func WithSet(ctx context.Context, s *Set) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// From returns the Set ctx carries; nil, which counts nothing, when none.
func From(ctx context.Context) *Set {
	s, _ := ctx.Value(ctxKey{}).(*Set)
	return s
}
