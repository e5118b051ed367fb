package loadtest

import (
	"slices"
	"time"
)

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
}

// PercentilesOf sorts ds and reads the nearest-rank percentiles: the p-th
// percentile is the smallest latency that at least p% of the samples do
// not exceed. No samples gives zeros.
func PercentilesOf(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(p int) float64 {
		rank := (p*len(ds) + 99) / 100 // ceil(p/100 * n), 1-based
		return float64(ds[max(rank, 1)-1].Microseconds()) / 1000
	}
	return Percentiles{P50: at(50), P95: at(95), P99: at(99)}
}
