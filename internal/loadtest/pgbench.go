package loadtest

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// Pgbench is TPC-B as pgbench runs it: the yardstick every rate is divided
// by, measured on the same cluster in the same run.
type Pgbench struct {
	Bin      string // the pgbench of the server's bin dir
	URL      string // a database of its own; -i fills it
	Scale    int
	Clients  int
	Threads  int
	Duration time.Duration
}

// Run initializes the tables and runs the measured TPC-B, returning its tps.
func (p Pgbench) Run(ctx context.Context) (float64, error) {
	if out, err := exec.CommandContext(ctx, p.Bin, "-i", "-q", "-s", strconv.Itoa(p.Scale), p.URL).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, p.Bin, "-n", "-c", strconv.Itoa(p.Clients), "-j", strconv.Itoa(p.Threads),
		"-T", strconv.Itoa(int(p.Duration.Seconds())), p.URL).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	return ParsePgbenchTPS(string(out))
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)

// ParsePgbenchTPS reads the tps pgbench printed, without the time spent
// opening connections (the figure pgbench itself leads with).
func ParsePgbenchTPS(out string) (float64, error) {
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench's output: %.300s", out)
	}
	return strconv.ParseFloat(m[1], 64)
}
