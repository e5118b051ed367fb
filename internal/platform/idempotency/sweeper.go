package idempotency

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// PurgeArgs is the periodic job that deletes expired results. River runs
// periodic jobs on its elected leader only, so two replicas never both sweep.
type PurgeArgs struct{}

// Kind names the job in River's tables.
func (PurgeArgs) Kind() string { return "idempotency_purge" }

// PurgeWorker deletes expired results in batches.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Store *Store
}

// Work deletes expired rows until none are left.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	for {
		n, err := w.Store.PurgeExpired(ctx, 1000)
		if err != nil || n < 1000 {
			return err
		}
	}
}

// PurgeJob schedules the sweeper every interval.
func PurgeJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}
