package loadtest

import (
	"maps"
	"slices"
	"time"
)

// Result is one scenario's measured window.
type Result struct {
	Scenario   string         `json:"scenario"`
	Unit       string         `json:"unit"`
	Op         string         `json:"op,omitempty"`
	Units      int            `json:"units"`
	Attempts   int            `json:"attempts"`
	Requests   int            `json:"requests"`
	Seconds    float64        `json:"seconds"`
	Rate       float64        `json:"rate"`
	Ratio      float64        `json:"ratio_to_pgbench"`
	Latency    Percentiles    `json:"latency"`
	Payment    *Percentiles   `json:"payment_latency,omitempty"`
	Errors     map[string]int `json:"errors"`
	Superseded int            `json:"superseded"`
	Broken     int            `json:"broken"`
	BrokenSeen []string       `json:"broken_samples,omitempty"`
	// Per HTTP request of the window.
	StatementsPerRequest float64 `json:"statements_per_request"`
	CommitsPerRequest    float64 `json:"commits_per_request"`
	WALBytesPerRequest   float64 `json:"wal_bytes_per_request"`
	CPUSecondsPer1000    float64 `json:"cpu_seconds_per_1000_requests"`
	RSSBytes             int64   `json:"rss_bytes"`
}

// NewResult turns a window's tally and counter deltas into figures. The
// ratio to pgbench waits for the run's end (Report.SetPgbench).
func NewResult(sc Scenario, t *Tally, cost Counters, rss int64) Result {
	r := Result{
		Scenario: sc.Name, Unit: sc.Unit, Op: sc.Op,
		Units: t.Units, Attempts: t.Attempts, Requests: t.Requests, Seconds: t.Elapsed.Seconds(),
		Latency: PercentilesOf(t.Latencies), Errors: t.Errors, Superseded: t.Superseded,
		Broken: t.Broken, BrokenSeen: t.BrokenSeen, RSSBytes: rss,
	}
	if t.Elapsed > 0 {
		r.Rate = float64(t.Units) / t.Elapsed.Seconds()
	}
	if len(t.Payments) > 0 {
		p := PercentilesOf(t.Payments)
		r.Payment = &p
	}
	if n := float64(t.Requests); n > 0 {
		r.StatementsPerRequest = float64(cost.Statements) / n
		r.CommitsPerRequest = float64(cost.Commits) / n
		r.WALBytesPerRequest = float64(cost.WALBytes) / n
		r.CPUSecondsPer1000 = cost.CPU.Seconds() / n * 1000
	}
	return r
}

// Ratio is rate over pgbench's tps, 0 when there is no tps to divide by.
func Ratio(rate, tps float64) float64 {
	if tps <= 0 {
		return 0
	}
	return rate / tps
}

// ErrorCount is the errors of a result, superseded QR codes not included.
func (r Result) ErrorCount() int {
	n := r.Broken
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// PaymentP99 is the p99 of POST /payments: the unit's own when the
// scenario sends payments alone, else the payments within its pairs.
func (r Result) PaymentP99() (float64, bool) {
	switch {
	case r.Op == "POST /payments":
		return r.Latency.P99, r.Units > 0
	case r.Payment != nil:
		return r.Payment.P99, true
	}
	return 0, false
}

// sortedErrors lists error keys, most frequent first.
func sortedErrors(errs map[string]int) []string {
	keys := slices.Collect(maps.Keys(errs))
	slices.SortFunc(keys, func(a, b string) int {
		if errs[a] != errs[b] {
			return errs[b] - errs[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	return keys
}

// Report is a whole run.
type Report struct {
	Started   time.Time `json:"started"`
	Clients   int       `json:"clients"`
	Warmup    string    `json:"warmup"`
	Window    string    `json:"window"`
	Wallets   int       `json:"wallets"`
	SetupSecs float64   `json:"setup_seconds"`
	// PgbenchTPS is the mean of the runs before and after the scenarios,
	// the divisor of every ratio; 0 when pgbench was not run.
	PgbenchTPS    float64   `json:"pgbench_tps"`
	PgbenchBefore float64   `json:"pgbench_tps_before"`
	PgbenchAfter  float64   `json:"pgbench_tps_after"`
	Before        Machine   `json:"machine_before"`
	After         Machine   `json:"machine_after"`
	Results       []Result  `json:"scenarios"`
	Targets       []Verdict `json:"targets"`
}

// Failed says a request broke the contract: a 5xx, a body that is not an
// envelope, or no answer at all.
func (r *Report) Failed() bool {
	for _, res := range r.Results {
		if res.Broken > 0 {
			return true
		}
	}
	return false
}

// SetPgbench records pgbench's tps measured before and after the
// scenarios (0 for a run that failed or was skipped) and divides every
// rate by their mean: the machine's load drifts over a run, and the mean
// sits where the scenarios ran.
func (r *Report) SetPgbench(before, after float64) {
	r.PgbenchBefore, r.PgbenchAfter = before, after
	switch {
	case before > 0 && after > 0:
		r.PgbenchTPS = (before + after) / 2
	default:
		r.PgbenchTPS = max(before, after)
	}
	for i := range r.Results {
		r.Results[i].Ratio = Ratio(r.Results[i].Rate, r.PgbenchTPS)
	}
}
