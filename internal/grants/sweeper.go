package grants

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/wallets"
)

// SweepArgs is the periodic job that expires due grants of every wallet.
// River runs periodic jobs on its elected leader only; and even if two
// sweeps overlapped, each wallet is expired under its row lock after a
// fresh look at what is due, so nothing expires twice.
type SweepArgs struct{}

// Kind names the job in River's tables.
func (SweepArgs) Kind() string { return "promo_expiry_sweep" }

// SweepWorker expires due grants in batches of wallets, one transaction per
// wallet so a sweep never holds many locks.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Pool *pgxpool.Pool
	Now  func() time.Time // the service clock
}

// Work sweeps until no wallet is due.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := Sweep(ctx, w.Pool, w.Now())
	return err
}

// Sweep expires every grant due at now and says how many wallets it visited.
func Sweep(ctx context.Context, pool *pgxpool.Pool, now time.Time) (int, error) {
	const batch = 100
	visited := 0
	seen := map[string]bool{}
	for {
		due, err := wallets.ListExpiryDue(ctx, db.New(pool), now, batch)
		if err != nil {
			return visited, err
		}
		progressed := false
		for _, d := range due {
			if seen[d.WalletID] {
				continue // still due after its sweep: do not spin on it
			}
			seen[d.WalletID], progressed = true, true
			if err := dbx.InTx(ctx, pool, func(ctx context.Context, q *db.Queries) error {
				_, err := ExpireDue(ctx, q, d.MerchantID, d.WalletID, now)
				return err
			}); err != nil {
				return visited, err
			}
		}
		visited += len(due)
		if len(due) < batch || !progressed {
			return visited, nil
		}
	}
}

// SweepJob schedules the sweeper every interval.
func SweepJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	)
}
