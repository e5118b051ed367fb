package events

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/feddi/partner-api/gen/db"
)

// Retention is how long an event stays readable at GET /events (and its
// webhook delivery attempts at GET /webhooks/endpoints/{id}/deliveries): a
// poller that falls further behind than this misses what expired.
const Retention = 30 * 24 * time.Hour

// PurgeArgs is the periodic job that deletes events past Retention. River
// runs periodic jobs on its elected leader only.
type PurgeArgs struct{}

// Kind names the job in River's tables.
func (PurgeArgs) Kind() string { return "event_purge" }

// PurgeWorker deletes old events in batches.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Pool *pgxpool.Pool
	Now  func() time.Time // the service clock
}

// Work deletes events older than Retention until none are left.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	const batch = 1000
	before := w.Now().Add(-Retention)
	for {
		n, err := db.New(w.Pool).EventDeleteOld(ctx, db.EventDeleteOldParams{Before: before, BatchSize: batch})
		if err != nil {
			return fmt.Errorf("deleting events older than %s: %w", before.Format(time.RFC3339), err)
		}
		if n < batch {
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
