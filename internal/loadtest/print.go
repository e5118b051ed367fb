package loadtest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// PrintHeader prints what the run is and where it runs.
func PrintHeader(w io.Writer, r *Report) {
	_, _ = fmt.Fprintf(w, "feddi load test %s: %d clients, %s warm-up, %s window, %d wallets\n",
		r.Started.UTC().Format("2006-01-02 15:04:05Z"), r.Clients, r.Warmup, r.Window, r.Wallets)
	_, _ = fmt.Fprintf(w, "machine at start: nproc %d, load average %s\n", r.Before.NProc, r.Before.LoadAvg)
}

// PrintResult prints one scenario as soon as it is measured.
func PrintResult(w io.Writer, r Result) {
	_, _ = fmt.Fprintf(w, "  %-13s %8.1f %s/s  p99 %6.1f ms  errors %d  superseded %d\n",
		r.Scenario, r.Rate, r.Unit, r.Latency.P99, r.ErrorCount(), r.Superseded)
}

// PrintReport prints the tables of a finished run.
func PrintReport(w io.Writer, r *Report) {
	if r.PgbenchTPS > 0 {
		_, _ = fmt.Fprintf(w, "\npgbench TPC-B on the same cluster: %.1f tps before the scenarios, %.1f after; ratios divide by %.1f\n\n",
			r.PgbenchBefore, r.PgbenchAfter, r.PgbenchTPS)
	} else {
		_, _ = fmt.Fprint(w, "\npgbench TPC-B: not run, so no ratios\n\n")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "scenario\tunit\trate/s\t÷pgbench\tp50 ms\tp95 ms\tp99 ms\tpay p99 ms\terrors\tsuperseded\tstmts/req\tcommits/req\tWAL B/req\tCPU s/1k req\tRSS MiB\t")
	for _, res := range r.Results {
		payP99 := "-"
		if v, ok := res.PaymentP99(); ok {
			payP99 = fmt.Sprintf("%.1f", v)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.3f\t%.1f\t%.1f\t%.1f\t%s\t%d\t%d\t%.1f\t%.2f\t%.0f\t%.2f\t%.0f\t\n",
			res.Scenario, res.Unit, res.Rate, res.Ratio, res.Latency.P50, res.Latency.P95, res.Latency.P99, payP99,
			res.ErrorCount(), res.Superseded, res.StatementsPerRequest, res.CommitsPerRequest,
			res.WALBytesPerRequest, res.CPUSecondsPer1000, float64(res.RSSBytes)/(1<<20))
	}
	_ = tw.Flush()

	printErrors(w, r.Results)
	printPerOperation(w, r.Results)
	printTargets(w, r.Targets)
	_, _ = fmt.Fprintf(w, "\nmachine at end: nproc %d, load average %s\n", r.After.NProc, r.After.LoadAvg)
}

func printErrors(w io.Writer, results []Result) {
	var lines []string
	for _, res := range results {
		var parts []string
		for _, k := range sortedErrors(res.Errors) {
			parts = append(parts, fmt.Sprintf("%s %d", k, res.Errors[k]))
		}
		if res.Broken > 0 {
			parts = append(parts, fmt.Sprintf("BROKEN %d (%s)", res.Broken, strings.Join(res.BrokenSeen, "; ")))
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("  %-13s %s", res.Scenario, strings.Join(parts, ", ")))
		}
	}
	if len(lines) == 0 {
		return
	}
	_, _ = fmt.Fprintln(w, "\nerrors by error.code (superseded QR codes counted apart):")
	for _, l := range lines {
		_, _ = fmt.Fprintln(w, l)
	}
}

func printPerOperation(w io.Writer, results []Result) {
	if !slices.ContainsFunc(results, func(r Result) bool { return r.Op != "" }) {
		return
	}
	_, _ = fmt.Fprintln(w, "\nper operation, from the scenario that sends it alone:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "operation\tscenario\tstatements\tcommits\tWAL bytes\tCPU ms\t")
	for _, res := range results {
		if res.Op != "" {
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f\t%.0f\t%.2f\t\n", res.Op, res.Scenario,
				res.StatementsPerRequest, res.CommitsPerRequest, res.WALBytesPerRequest, res.CPUSecondsPer1000)
		}
	}
	_ = tw.Flush()
}

func printTargets(w io.Writer, vs []Verdict) {
	_, _ = fmt.Fprintln(w, "\ntargets (issue 7; rates as ratios to pgbench tps in this run):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vs {
		verdict, measured := "MISS", fmt.Sprintf("%.3f", v.Measured)
		switch {
		case v.Missing:
			verdict, measured = "n/a", "-"
		case v.Pass:
			verdict = "PASS"
		}
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", v.Target, v.Want, measured, verdict, v.Note)
	}
	_ = tw.Flush()
}
