package loadtest

import "fmt"

// Verdict is one target of issue 7 beside what the run measured.
type Verdict struct {
	Target   string  `json:"target"`
	Measured float64 `json:"measured"`
	Want     string  `json:"want"`
	Pass     bool    `json:"pass"`
	Missing  bool    `json:"missing,omitempty"` // its scenario did not run
	Note     string  `json:"note,omitempty"`
}

// target is a goal on one scenario's figures.
type target struct {
	name     string
	scenario string
	want     string
	measure  func(r Result, tps float64) (float64, bool)
	pass     func(v float64, r Result) bool
}

// ratioOf is the scenario's ratio, which exists only when pgbench ran.
func ratioOf(r Result, tps float64) (float64, bool) { return r.Ratio, tps > 0 }

func paymentP99(r Result, _ float64) (float64, bool) { return r.PaymentP99() }

// targets are the goals, as ratios to pgbench TPC-B's tps in the
// same run, and one latency goal.
var targets = []target{
	{"mint-and-pay pairs (pay)", "pay", ">= 0.40", ratioOf, func(v float64, _ Result) bool { return v >= 0.40 }},
	{"POST /payments alone (pay-only)", "pay-only", ">= 0.60", ratioOf, func(v float64, _ Result) bool { return v >= 0.60 }},
	{"top-up spread (topup-spread)", "topup-spread", ">= 0.70", ratioOf, func(v float64, _ Result) bool { return v >= 0.70 }},
	{"top-up hot wallet, no error (topup-hot)", "topup-hot", ">= 0.25, 0 errors", ratioOf,
		func(v float64, r Result) bool { return v >= 0.25 && r.ErrorCount() == 0 && r.Superseded == 0 }},
	{"p99 of POST /payments, 32 clients (pay-only)", "pay-only", "<= 50 ms", paymentP99,
		func(v float64, _ Result) bool { return v <= 50 }},
}

// Judge compares the results with the targets; tps is pgbench's, 0 when
// it did not run.
func Judge(results []Result, tps float64) []Verdict {
	var out []Verdict
	for _, t := range targets {
		v := Verdict{Target: t.name, Want: t.want, Missing: true}
		for _, r := range results {
			if r.Scenario != t.scenario {
				continue
			}
			m, ok := t.measure(r, tps)
			v.Missing = !ok
			if ok {
				v.Measured, v.Pass = m, t.pass(m, r)
			}
			if n := r.ErrorCount(); n > 0 {
				v.Note = fmt.Sprintf("%d errors", n)
			}
		}
		out = append(out, v)
	}
	return out
}
