// Command feddi-load is the project's load test, run by `make bench`: it
// measures pgbench TPC-B on a PostgreSQL cluster, creates a fresh database
// there, starts a real `feddi serve` on it, sets up a merchant and its
// wallets through the API, and drives each scenario with a closed loop of
// clients, printing rates (also as ratios to pgbench's tps), latencies,
// errors by code and the database cost per request. docs/benchmarks.md
// explains the figures.
//
//	feddi-load -pg URL -feddi bin/feddi -pgbench PATH [-scenarios pay,topup] [-duration 20s]
//
// It exits non-zero when a request broke the contract (a 5xx, a body that
// is not a JSON envelope, no answer), never because a target was missed.
//
// Like internal/loadtest, it times real work on the wall clock (time.Now).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	pgURL         string
	dbURL         string
	feddi         string
	pgbench       string
	out           string
	scenarios     string
	clients       int
	wallets       int
	warmup        time.Duration
	window        time.Duration
	pgbenchScale  int
	pgbenchTime   time.Duration
	payOnlyTokens int
	pool          int
}

func main() {
	os.Exit(exitCode(parseFlags()))
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.pgURL, "pg", os.Getenv("DATABASE_URL"), "URL of a database on the cluster to measure; the load test creates its own databases beside it")
	flag.StringVar(&o.dbURL, "db", "", "URL of an empty database, prepared beforehand, to serve feddi on instead of one the load test creates (a Citus cluster's: db/citus.sh recreate makes it on every node)")
	flag.StringVar(&o.feddi, "feddi", "bin/feddi", "the feddi binary to serve")
	flag.StringVar(&o.pgbench, "pgbench", "pgbench", "the pgbench of the cluster's PostgreSQL")
	flag.StringVar(&o.out, "out", ".data/bench", "folder for the JSON report, the chart and the server log")
	flag.StringVar(&o.scenarios, "scenarios", "all", "comma-separated scenarios: all, topup, or names (pay, pay-disjoint, pay-hot, pay-only, topup-spread, topup-hot, identify, mixed)")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients, each in a closed loop")
	flag.IntVar(&o.wallets, "wallets", 1000, "verified, funded wallets of the one merchant")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "load before each measured window, not measured")
	flag.DurationVar(&o.window, "duration", 20*time.Second, "measured window of each scenario")
	flag.IntVar(&o.pgbenchScale, "pgbench-scale", 32, "pgbench -i -s")
	flag.DurationVar(&o.pgbenchTime, "pgbench-duration", 20*time.Second, "pgbench -T; 0 skips pgbench (no ratios)")
	flag.IntVar(&o.pool, "pool", 0, "the server's database pool size (pool_max_conns); 0 keeps feddi's default")
	flag.IntVar(&o.payOnlyTokens, "pay-only-tokens", 0, "QR tokens pay-only issues ahead (default: 2,000 per second of warm-up and window)")
	flag.Parse()
	if o.payOnlyTokens == 0 {
		o.payOnlyTokens = int(2000 * (o.warmup + o.window).Seconds())
	}
	return o
}

func exitCode(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "feddi-load:", err)
		return 1
	}
	return 0
}

// errBroken: the run measured, but some request broke the contract.
var errBroken = errors.New("some requests got a 5xx, no answer or a body that is not a JSON envelope (see BROKEN above and the server log)")
