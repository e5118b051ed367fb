package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/loadtest"
)

func run(ctx context.Context, o options) error {
	names, err := loadtest.Select(o.scenarios)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	started := time.Now()
	report := &loadtest.Report{
		Started: started, Clients: o.clients, Warmup: o.warmup.String(), Window: o.window.String(),
		Wallets: o.wallets, Before: loadtest.ReadMachine(runtime.NumCPU()),
	}
	loadtest.PrintHeader(os.Stdout, report)

	cl, err := openCluster(ctx, o.pgURL)
	if err != nil {
		return err
	}
	defer cl.admin.Close()
	yard, tpsBefore, err := newYardstick(ctx, cl, o)
	if err != nil {
		return err
	}
	defer yard.close(context.WithoutCancel(ctx))

	stamp := started.UTC().Format("20060102T150405Z")
	dbURL := o.dbURL
	if dbURL == "" {
		dbName := "feddi_load_" + stamp
		if err := cl.recreate(ctx, dbName); err != nil {
			return err
		}
		defer func() { _ = cl.drop(context.WithoutCancel(ctx), dbName) }()
		dbURL = cl.urlOf(dbName)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connecting to the database to serve on: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return fmt.Errorf("creating pg_stat_statements: %w", err)
	}

	// The server logs every request; one run's log is plenty to keep.
	logFile, err := os.Create(filepath.Join(o.out, "server.log"))
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	feddi := loadtest.Feddi{Bin: o.feddi, DatabaseURL: dbURL, Log: logFile}
	if o.pool > 0 {
		feddi.DatabaseURL = withQuery(feddi.DatabaseURL, "pool_max_conns", strconv.Itoa(o.pool))
	}
	if err := feddi.Migrate(ctx); err != nil {
		return err
	}
	boot, err := feddi.Bootstrap(ctx)
	if err != nil {
		return err
	}
	srv, err := feddi.Serve(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "feddi-load:", err)
		}
	}()

	api := loadtest.NewAPI(srv.URL, "lt"+stamp, 2*o.clients)
	t0 := time.Now()
	fx, err := loadtest.Setup(ctx, api, boot.APIKey, o.wallets, o.clients)
	if err != nil {
		return fmt.Errorf("setting up through the API: %w", err)
	}
	report.SetupSecs = time.Since(t0).Seconds()
	fmt.Printf("setup: 2 keys, reload bonus, %d wallets enrolled, verified and funded in %.1f s\n", o.wallets, report.SetupSecs)

	env := &loadtest.Env{
		API: api, Fx: fx, PayOnlyTokens: o.payOnlyTokens,
		IssueTokens: func(ctx context.Context, n int) ([]string, error) {
			return loadtest.IssueTokens(ctx, pool, boot.MerchantID, fx.Wallets, n)
		},
	}
	scenarios := loadtest.Scenarios(env)
	probe := loadtest.Probe{Pool: pool, PID: srv.PID()}
	for _, name := range names {
		if err := api.NewTill(ctx, fx); err != nil {
			return err
		}
		res, err := measure(ctx, scenarios[name], probe, o)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		report.Results = append(report.Results, res)
		loadtest.PrintResult(os.Stdout, res)
	}

	report.SetPgbench(tpsBefore, yard.again(ctx))
	report.After = loadtest.ReadMachine(runtime.NumCPU())
	report.Targets = loadtest.Judge(report.Results, report.PgbenchTPS)
	loadtest.PrintReport(os.Stdout, report)
	if err := writeReport(o.out, stamp, report); err != nil {
		return err
	}
	if report.Failed() {
		return errBroken
	}
	return nil
}

// measure runs one scenario: warm-up, counters, window, counters. The
// counters are read between phases, while no request is in flight, so
// that none is counted half in the window.
func measure(ctx context.Context, sc loadtest.Scenario, probe loadtest.Probe, o options) (loadtest.Result, error) {
	workers, err := sc.Workers(ctx, o.clients)
	if err != nil {
		return loadtest.Result{}, err
	}
	loadtest.Drive(ctx, workers, o.warmup)
	before, err := probe.Read(ctx)
	if err != nil {
		return loadtest.Result{}, err
	}
	tally := loadtest.Drive(ctx, workers, o.window)
	rss, rssErr := loadtest.ProcessRSS(probe.PID)
	after, err := probe.Read(ctx)
	if err = errors.Join(err, rssErr, ctx.Err()); err != nil {
		return loadtest.Result{}, err
	}
	return loadtest.NewResult(sc, tally, after.Sub(before), rss), nil
}
