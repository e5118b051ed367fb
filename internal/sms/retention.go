package sms

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/feddi/partner-api/gen/db"
)

// Retention is how long a message's envelope (phone, kind, state) and a
// sandbox copy are kept: long enough to answer "did my SMS go out?".
const Retention = 7 * 24 * time.Hour

// PurgeArgs is the periodic job that deletes messages past Retention. River
// runs periodic jobs on its elected leader only.
type PurgeArgs struct{}

// Kind names the job in River's tables.
func (PurgeArgs) Kind() string { return "sms_purge" }

// PurgeWorker deletes old messages in batches.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Pool *pgxpool.Pool
	Now  func() time.Time // the service clock
}

// Work deletes old outbox rows and sandbox copies until none are left.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	const batch = 1000
	q := db.New(w.Pool)
	now := w.Now()
	for {
		a, err := q.SMSOutboxDeleteOld(ctx, db.SMSOutboxDeleteOldParams{OlderThanSeconds: Retention.Seconds(), Now: now, BatchSize: batch})
		if err != nil {
			return err
		}
		b, err := q.SandboxMessageDeleteOld(ctx, db.SandboxMessageDeleteOldParams{OlderThanSeconds: Retention.Seconds(), Now: now, BatchSize: batch})
		if err != nil {
			return err
		}
		if a < batch && b < batch {
			return nil
		}
	}
}

// PurgeJob schedules the retention sweep every interval.
func PurgeJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}
