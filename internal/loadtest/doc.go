// Package loadtest is the machinery behind `make bench` (cmd/feddi-load): a
// closed-loop load generator that drives a real `feddi serve` over HTTP,
// the database counters read around each measured window, pgbench TPC-B as
// the yardstick measured in the same run, and the report.
//
// Absolute rates move with whatever else the machine is doing, so every
// rate is also reported as a ratio to pgbench's tps on the same cluster in
// the same run; the ratio is the figure to track (docs/benchmarks.md).
//
// The load test measures real elapsed time and mints real tokens against a
// running server, so it reads the wall clock (time.Now), not an injected
// clock (docs/architecture.md, "Time").
package loadtest
