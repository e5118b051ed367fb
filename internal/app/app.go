// Package app assembles the service: the loaded document, the domain
// services, the HTTP handler and the River client. `feddi serve` and the
// end-to-end tests build the same App.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/httpapi"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/jobs"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/webhooks"
	"github.com/feddi/partner-api/openapi"
)

// LoadSpec parses the embedded document once per process.
var LoadSpec = sync.OnceValues(func() (*spec.Spec, error) { return spec.Load(openapi.Document) })

// Options tune an App beyond its configuration.
type Options struct {
	// CheckResponse, when set, validates every response against the document.
	CheckResponse func(httpx.ResponseCheck)
	// Now is the one clock of the service (docs/architecture.md, "Time"):
	// every service reads the time from it and passes it to SQL that decides
	// by time. Nil is time.Now; tests pass a clock they can advance.
	Now func() time.Time
	// WebhookLookup, when set, resolves webhook endpoint hosts at
	// registration (tests without DNS); nil is the system resolver.
	WebhookLookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// TracerProvider makes the spans of requests, SQL statements and jobs;
	// nil records none (tracing.FromEnv).
	TracerProvider trace.TracerProvider
}

// App is the assembled service.
type App struct {
	Config  config.Config
	Spec    *spec.Spec
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Server  *httpapi.Server
	Handler *echo.Echo
	Jobs    *jobs.Client
	// Metrics is the registry the admin listener serves (/metrics).
	Metrics *metrics.Set
	// Now is the clock every service was given.
	Now func() time.Time
}

// New assembles the service over a migrated database. The services come
// first, the River workers are registered with them, and the working River
// client is created last, over the complete set of workers: the SMS outbox
// queues its delivery jobs through an insert-only client (jobs.NewInserter)
// and does not wait for the working one.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger, opts Options) (*App, error) {
	doc, err := LoadSpec()
	if err != nil {
		return nil, err
	}
	now := clock.OrWall(opts.Now)
	UseEventRenderer(doc)
	authSvc, err := auth.NewFromConfig(pool, cfg, doc, logger, now)
	if err != nil {
		return nil, err
	}
	// Codes people type (OTP, enrollment, short codes) are hashed under
	// subkeys of FEDDI_KEK, which never enters the database.
	codes, err := secrethash.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	if codes.Development {
		logger.Warn("FEDDI_KEK is not set: code hashes (OTP, enrollment, short codes) are keyed with the PUBLIC sandbox development KEK, " +
			"so a database reader can recover codes. Fine for a laptop; live refuses to start without FEDDI_KEK")
	}
	obs := newObservability(pool, opts.TracerProvider)
	inserter, err := jobs.NewInserter(pool, logger, obs.jobs...)
	if err != nil {
		return nil, err
	}
	limiter := ratelimit.New(pool, guessLimits(cfg), now)
	// One outbox for every SMS, capped per integration and per country.
	outbox := sms.NewOutbox(inserter, now).CappedBy(limiter)
	idem := idempotency.NewStore(pool, cfg.IdempotencyRetention, now)
	qrSvc := qr.NewService(pool, codes, now)
	identitySvc := identity.NewService(pool, qrSvc, limiter, now)
	paymentsSvc := payments.NewService(pool, payments.Deps{
		Limiter: limiter, Outbox: outbox, Codes: codes, QR: qrSvc, Now: now,
	})
	// The SMS dispatcher: the outbox's jobs go out through the configured
	// sender, with River's retries.
	smsSender, err := sms.NewSender(cfg, pool, logger)
	if err != nil {
		return nil, err
	}

	setup := jobs.NewSetup()
	setup.PollOnly = cfg.DatabasePooler == config.PgBouncer
	setup.Middleware = obs.jobs
	river.AddWorker(setup.Workers, &idempotency.PurgeWorker{Store: idem})
	river.AddWorker(setup.Workers, &grants.SweepWorker{Pool: pool, Now: now})
	river.AddWorker(setup.Workers, &payments.ExpireWorker{Service: paymentsSvc})
	river.AddWorker(setup.Workers, &payments.PurgeWorker{Service: paymentsSvc})
	river.AddWorker(setup.Workers, sms.NewSendWorker(pool, smsSender, logger, now))
	river.AddWorker(setup.Workers, &sms.PurgeWorker{Pool: pool, Now: now})
	river.AddWorker(setup.Workers, &events.PurgeWorker{Pool: pool, Now: now})
	// Webhooks: the events table's trigger queues one delivery job per
	// subscribed endpoint in the event's transaction.
	guard := webhooks.Guard{Sandbox: cfg.Env == config.Sandbox, Lookup: opts.WebhookLookup}
	eventsSvc := events.NewService(pool)
	river.AddWorker(setup.Workers, &webhooks.DeliveryWorker{
		Pool: pool, Events: eventsSvc, Sealer: authSvc, Client: guard.Client(), Now: now, RetryBase: cfg.WebhookRetryBase, Logger: logger,
	})
	setup.Periodic = append(setup.Periodic,
		idempotency.PurgeJob(cfg.IdempotencyPurgeInterval),
		grants.SweepJob(cfg.GrantSweepInterval),
		payments.ExpireJob(cfg.PaymentExpirySweepInterval),
		payments.PurgeJob(cfg.CredentialPurgeInterval),
		sms.PurgeJob(cfg.SMSPurgeInterval),
		events.PurgeJob(cfg.EventPurgeInterval),
	)
	jobsClient, err := jobs.NewClient(pool, setup, logger)
	if err != nil {
		return nil, err
	}

	health := &healthChecker{pool: pool}
	smsHealth := sms.NewHealth(pool, now)
	health.checks = append(health.checks, func(ctx context.Context) (string, bool) { return "sms", smsHealth.Degraded(ctx) })
	srv := httpapi.NewServer(httpapi.Deps{
		Config:       cfg,
		Spec:         doc,
		Health:       health,
		Idempotency:  idem,
		Auth:         authSvc,
		Topup:        topup.NewService(pool, now),
		Grants:       grants.NewService(pool, now),
		Transactions: transactions.NewService(pool),
		Payments:     paymentsSvc,
		Identity:     identitySvc,
		Checkout:     checkout.NewService(pool, identitySvc, now),
		QR:           qrSvc,
		Enrollment: enrollment.NewService(pool, enrollment.Config{
			Outbox: outbox, LinkBaseURL: enrollment.LinkBaseFor(cfg.Env), Codes: codes, Now: now,
		}),
		SandboxMessages: sms.NewInbox(pool, cfg.Env),
		Events:          eventsSvc,
		Webhooks:        webhooks.NewService(pool, authSvc, guard, now),
		Now:             now,
	})
	return &App{
		Config:  cfg,
		Spec:    doc,
		Pool:    pool,
		Logger:  logger,
		Server:  srv,
		Handler: httpapi.NewHandler(srv, obs.handlerOptions(logger, opts.CheckResponse)),
		Jobs:    jobsClient,
		Metrics: obs.metrics,
		Now:     now,
	}, nil
}

// guessLimits converts the settings of the guess, lookup and SMS limits.
func guessLimits(cfg config.Config) ratelimit.Limits {
	rate := func(r config.Rate) ratelimit.Rate { return ratelimit.Rate{Max: r.Max, Window: r.Window} }
	return ratelimit.Limits{
		PerTerminal: rate(cfg.GuessLimitPerTerminal),
		PerKey:      rate(cfg.GuessLimitPerKey),
		PerMerchant: rate(cfg.GuessLimitPerMerchant),

		LookupPerTerminal: rate(cfg.LookupLimitPerTerminal),
		SMSPerIntegration: rate(cfg.SMSLimitPerIntegration),
		SMSPerCountry:     rate(cfg.SMSLimitPerCountry),
	}
}

// UseEventRenderer installs the renderer of the event log's snapshots:
// the domains record events in the API's shape, which only the HTTP layer
// knows (internal/events). New calls it; so do tests that call the domains
// without an App (apptest).
func UseEventRenderer(doc *spec.Spec) {
	events.UseRenderer(httpapi.EventRenderer(doc.APIVersion))
}

// StartJobs starts working background jobs until ctx ends or StopJobs.
func (a *App) StartJobs(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return fmt.Errorf("starting background jobs: %w", err)
	}
	return nil
}

// StopJobs waits for running jobs, up to ctx.
func (a *App) StopJobs(ctx context.Context) error { return jobs.StopGracefully(ctx, a.Jobs) }

// healthChecker pings the database and asks each subsystem check.
type healthChecker struct {
	pool   *pgxpool.Pool
	checks []func(ctx context.Context) (subsystem string, degraded bool)
}

func (h *healthChecker) Check(ctx context.Context) (bool, []string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.pool.Ping(ctx); err != nil {
		return false, []string{"database"}
	}
	degraded := []string{}
	for _, check := range h.checks {
		if name, bad := check(ctx); bad {
			degraded = append(degraded, name)
		}
	}
	return true, degraded
}

// Prepare does the one-time work a replica needs before serving: a current
// JWT signing key (created by the first replica to start; safe when several
// start at once).
func (a *App) Prepare(ctx context.Context) error {
	if _, err := a.Server.Auth.EnsureSigningKey(ctx); err != nil {
		return fmt.Errorf("ensuring a JWT signing key: %w", err)
	}
	return nil
}

// LogResponseProblems logs responses that do not match the document.
func LogResponseProblems(logger *slog.Logger) func(httpx.ResponseCheck) {
	return func(c httpx.ResponseCheck) {
		if c.Problem == nil {
			return
		}
		id := ""
		if c.Operation != nil {
			id = c.Operation.ID
		}
		logger.Error("response does not match the OpenAPI document", "operation_id", id, "status", c.Status, "problem", c.Problem.Error())
	}
}
