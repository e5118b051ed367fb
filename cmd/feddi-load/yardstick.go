package main

import (
	"context"
	"fmt"
	"os"

	"github.com/feddi/partner-api/internal/loadtest"
)

// pgbenchThreads is pgbench's -j, as issue 7 pins it.
const pgbenchThreads = 2

const pgbenchDB = "feddi_load_pgbench"

// yardstick is pgbench TPC-B in a database of its own on the cluster under
// test, run once before the scenarios and once after them, so that the
// report shows how far the machine's load drifted during the run.
type yardstick struct {
	cl *cluster
	pb loadtest.Pgbench
	on bool
}

// newYardstick initializes pgbench's tables and runs it a first time; with
// -pgbench-duration 0 it does nothing and every tps is 0 (no ratios).
func newYardstick(ctx context.Context, cl *cluster, o options) (*yardstick, float64, error) {
	y := &yardstick{cl: cl, on: o.pgbenchTime > 0, pb: loadtest.Pgbench{
		Bin: o.pgbench, URL: cl.urlOf(pgbenchDB), Scale: o.pgbenchScale,
		Clients: o.clients, Threads: pgbenchThreads, Duration: o.pgbenchTime,
	}}
	if !y.on {
		fmt.Println("pgbench: skipped (-pgbench-duration 0): no ratios")
		return y, 0, nil
	}
	if err := cl.recreate(ctx, pgbenchDB); err != nil {
		return nil, 0, err
	}
	fmt.Printf("pgbench: -i -s %d, then -c %d -j %d -T %s ...\n", o.pgbenchScale, o.clients, pgbenchThreads, o.pgbenchTime)
	if err := y.pb.Init(ctx); err != nil {
		y.close(context.WithoutCancel(ctx))
		return nil, 0, err
	}
	tps, err := y.pb.Run(ctx)
	if err != nil {
		y.close(context.WithoutCancel(ctx))
		return nil, 0, err
	}
	fmt.Printf("pgbench: %.1f tps\n", tps)
	return y, tps, nil
}

// again runs pgbench after the scenarios; a failure is reported and gives
// 0, so that the ratios rest on the first run alone.
func (y *yardstick) again(ctx context.Context) float64 {
	if !y.on {
		return 0
	}
	tps, err := y.pb.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "feddi-load: pgbench after the scenarios:", err)
		return 0
	}
	return tps
}

func (y *yardstick) close(ctx context.Context) {
	if y.on {
		_ = y.cl.drop(ctx, pgbenchDB)
	}
}
