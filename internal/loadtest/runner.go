package loadtest

import (
	"context"
	"sync"
	"time"
)

// Unit is one unit of work of a scenario, as one client saw it: a
// mint-and-pay pair, or a single request.
type Unit struct {
	// Failure is the outcome that failed the unit; nil when it succeeded.
	Failure *Outcome
	// Requests is how many HTTP requests the unit sent.
	Requests int
	// Payment is the latency of its successful POST /payments, 0 if none.
	Payment time.Duration
}

// Worker runs one unit; each client has its own, so state such as a random
// source or a list of wallets needs no locking.
type Worker func(ctx context.Context) Unit

// Tally is what clients recorded over a window.
type Tally struct {
	Units      int // successful units
	Attempts   int
	Requests   int
	Latencies  []time.Duration // of successful units
	Payments   []time.Duration // of their POST /payments
	Errors     map[string]int
	Superseded int
	Broken     int
	BrokenSeen []string // the first few, to say what broke
	Elapsed    time.Duration
}

const brokenSamples = 5

func (t *Tally) add(u Unit, latency time.Duration) {
	t.Attempts++
	t.Requests += u.Requests
	switch f := u.Failure; {
	case f == nil:
		t.Units++
		t.Latencies = append(t.Latencies, latency)
		if u.Payment > 0 {
			t.Payments = append(t.Payments, u.Payment)
		}
	case f.Broken != "":
		t.Broken++
		if len(t.BrokenSeen) < brokenSamples {
			t.BrokenSeen = append(t.BrokenSeen, f.Broken)
		}
	case f.Superseded():
		t.Superseded++
	default:
		t.Errors[f.ErrorKey()]++
	}
}

func (t *Tally) merge(o *Tally) {
	t.Units += o.Units
	t.Attempts += o.Attempts
	t.Requests += o.Requests
	t.Latencies = append(t.Latencies, o.Latencies...)
	t.Payments = append(t.Payments, o.Payments...)
	for k, n := range o.Errors {
		t.Errors[k] += n
	}
	t.Superseded += o.Superseded
	t.Broken += o.Broken
	for _, s := range o.BrokenSeen {
		if len(t.BrokenSeen) < brokenSamples {
			t.BrokenSeen = append(t.BrokenSeen, s)
		}
	}
}

// Drive runs every worker in a closed loop (each starts its next unit when
// the previous one answered) for d, waits for the units in flight, and
// returns what they recorded. Elapsed runs until the last unit answered.
func Drive(ctx context.Context, workers []Worker, d time.Duration) *Tally {
	tallies := make([]*Tally, len(workers))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, work := range workers {
		tallies[i] = &Tally{Errors: map[string]int{}}
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				u := work(ctx)
				tallies[i].add(u, time.Since(t0))
			}
		})
	}
	wg.Wait()
	total := &Tally{Errors: map[string]int{}, Elapsed: time.Since(start)}
	for _, t := range tallies {
		total.merge(t)
	}
	return total
}

// Single makes a unit of one request.
func Single(out Outcome) Unit {
	if out.OK() {
		return Unit{Requests: 1}
	}
	return Unit{Requests: 1, Failure: &out}
}
