// Package jobs runs background work on River: jobs live in PostgreSQL, are
// inserted in the same transaction as the state that caused them, and
// periodic jobs run on the elected leader only, so any number of replicas
// behave as one.
package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Client is the River client of the service.
type Client = river.Client[pgx.Tx]

// Setup is what the domains contribute: their workers and periodic jobs.
type Setup struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	// PollOnly keeps River off LISTEN/NOTIFY, which PgBouncer in
	// transaction mode cannot carry (a LISTEN lasts as long as its server
	// connection, which is the client's for one transaction only): the
	// client polls for new jobs every FetchPollInterval (1 s) and a new
	// leader elects itself within seconds of the old one's resignation.
	PollOnly bool
	// Middleware wraps job insertion and work (metrics, traces).
	Middleware []rivertype.Middleware
}

// NewSetup returns an empty setup to register workers on.
func NewSetup() *Setup { return &Setup{Workers: river.NewWorkers()} }

// NewClient builds the River client. Call Start on it to work jobs; a client
// that is never started can still insert them.
func NewClient(pool *pgxpool.Pool, setup *Setup, logger *slog.Logger) (*Client, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers:      setup.Workers,
		PeriodicJobs: setup.Periodic,
		PollOnly:     setup.PollOnly,
		Middleware:   setup.Middleware,
		Logger:       logger,
	})
	if err != nil {
		return nil, fmt.Errorf("creating River client: %w", err)
	}
	return client, nil
}

// NewInserter builds an insert-only River client: no queues, no workers,
// never started; middleware wraps its inserts (trace propagation). Services that queue jobs in their callers' transactions
// (the SMS outbox) are built with it before the working client exists, so
// the working client's workers are registered with those services already
// built, and every insert has a client to go through.
func NewInserter(pool *pgxpool.Pool, logger *slog.Logger, middleware ...rivertype.Middleware) (*Client, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logger, Middleware: middleware})
	if err != nil {
		return nil, fmt.Errorf("creating River inserter: %w", err)
	}
	return client, nil
}

// StopGracefully stops working jobs, waiting for running ones up to ctx.
func StopGracefully(ctx context.Context, c *Client) error {
	return c.Stop(ctx)
}
