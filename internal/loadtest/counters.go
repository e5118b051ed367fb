package loadtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Counters are the cumulative figures read before and after a measured
// window; their difference is the window's cost.
type Counters struct {
	// Statements is the calls pg_stat_statements counted in the bench
	// database: every statement the server sent, BEGIN and COMMIT included
	// (each is a round trip), River's own polling too.
	Statements int64
	// Commits is pg_stat_database.xact_commit of the bench database.
	Commits int64
	// WALBytes is the cluster's WAL position: what the window wrote,
	// commit records and full-page images included.
	WALBytes int64
	// CPU is the server process's user plus system time.
	CPU time.Duration
}

// Sub is c minus an earlier reading.
func (c Counters) Sub(before Counters) Counters {
	return Counters{
		Statements: c.Statements - before.Statements,
		Commits:    c.Commits - before.Commits,
		WALBytes:   c.WALBytes - before.WALBytes,
		CPU:        c.CPU - before.CPU,
	}
}

// statsFlush is how long to wait, once the load stops, before reading the
// counters: PostgreSQL backends publish their transaction counts at most
// once a second.
const statsFlush = 1200 * time.Millisecond

// Probe reads the counters of one database and one server process.
type Probe struct {
	Pool *pgxpool.Pool // on the bench database, where pg_stat_statements is created
	PID  int
}

// Read waits for the statistics to settle, then reads the counters.
func (p Probe) Read(ctx context.Context) (Counters, error) {
	time.Sleep(statsFlush)
	var c Counters
	err := p.Pool.QueryRow(ctx, `
SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
         WHERE dbid = d.oid AND query NOT LIKE '%pg_stat_statements%')::bigint,
       (SELECT xact_commit FROM pg_stat_database WHERE datid = d.oid),
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
  FROM pg_database d WHERE d.datname = current_database()`).Scan(&c.Statements, &c.Commits, &c.WALBytes)
	if err != nil {
		return Counters{}, fmt.Errorf("reading the database counters: %w", err)
	}
	if c.CPU, err = ProcessCPU(p.PID); err != nil {
		return Counters{}, err
	}
	return c, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go builds for (the kernel exports that fixed value).
const clockTicks = 100

// ProcessCPU reads a process's user plus system CPU time from /proc.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's CPU time: %w", err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line; the command name (field 2) may hold spaces, so the
// fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat line %.80q", stat)
	}
	fields := strings.Fields(stat[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat line %.80q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc stat line %.80q", stat)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// ProcessRSS reads a process's resident set size in bytes (VmRSS).
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// Machine is the load average and core count, printed at the start and
// the end of a run: a busy neighbour explains a slow run.
type Machine struct {
	LoadAvg string `json:"loadavg"`
	NProc   int    `json:"nproc"`
}

// ReadMachine reads /proc/loadavg (the 1, 5 and 15 minute averages).
func ReadMachine(nproc int) Machine {
	m := Machine{LoadAvg: "unknown", NProc: nproc}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}
