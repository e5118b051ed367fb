package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/feddi/partner-api/gen/db"
)

// ExpireArgs is the periodic job that releases authorizations past their
// expiry (status expired, ledger type payment_expiry). River runs periodic
// jobs on its elected leader only; and were two sweeps to overlap, each
// payment is settled under its row lock after a fresh look at its status,
// so none is released twice. A payment whose expiry fails does not fail
// the job: it is logged, counted and retried after a backoff (ExpireDue).
type ExpireArgs struct{}

// Kind names the job in River's tables.
func (ExpireArgs) Kind() string { return "payment_authorization_expiry" }

// ExpireWorker runs Service.ExpireDue.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	Service *Service
}

// Work expires every authorization due.
func (w *ExpireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := w.Service.ExpireDue(ctx)
	return err
}

// ExpireJob schedules the expiry sweeper every interval.
func ExpireJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}

// CredentialRetention is how long dead QR tokens and OTP challenges are
// kept (for the reason a late attempt is refused) before they are deleted.
const CredentialRetention = 24 * time.Hour

// PurgeArgs is the periodic job that deletes QR tokens and OTP challenges
// older than CredentialRetention: long dead, since they live minutes.
type PurgeArgs struct{}

// Kind names the job in River's tables.
func (PurgeArgs) Kind() string { return "payment_credentials_purge" }

// PurgeWorker deletes old credentials in batches.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Service *Service
}

// Work purges until nothing old is left.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	return w.Service.PurgeCredentials(ctx, w.Service.now().Add(-CredentialRetention))
}

// PurgeJob schedules the purge every interval.
func PurgeJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}

// PurgeCredentials deletes QR tokens (through package qr, which owns them)
// and OTP challenges created before the cutoff.
func (s *Service) PurgeCredentials(ctx context.Context, before time.Time) error {
	const batch = 1000
	q := db.New(s.pool)
	for {
		n, err := s.tokens.Purge(ctx, before, batch)
		if err != nil {
			return err
		}
		m, err := q.OtpChallengePurge(ctx, db.OtpChallengePurgeParams{Before: before, BatchSize: batch})
		if err != nil {
			return fmt.Errorf("purging OTP challenges: %w", err)
		}
		if n < batch && m < batch {
			return nil
		}
	}
}
