package loadtest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/loadtest"
)

func TestPercentilesOf(t *testing.T) {
	t.Parallel()
	t.Run("NearestRank", func(t *testing.T) {
		t.Parallel()
		var ds []time.Duration
		for i := 200; i >= 1; i-- { // unsorted on purpose
			ds = append(ds, time.Duration(i)*time.Millisecond)
		}
		require.Equal(t, loadtest.Percentiles{P50: 100, P95: 190, P99: 198}, loadtest.PercentilesOf(ds))
	})
	t.Run("OneSampleIsEveryPercentile", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, loadtest.Percentiles{P50: 1.5, P95: 1.5, P99: 1.5}, loadtest.PercentilesOf([]time.Duration{1500 * time.Microsecond}))
	})
	t.Run("NoSamplesAreZeros", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, loadtest.Percentiles{}, loadtest.PercentilesOf(nil))
	})
}

func TestRatio(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 0.5, loadtest.Ratio(400, 800), 1e-9)
	require.Zero(t, loadtest.Ratio(400, 0), "no pgbench, no ratio")
}

func TestParsePgbenchTPS(t *testing.T) {
	t.Parallel()
	out := `transaction type: <builtin: TPC-B (sort of)>
scaling factor: 32
number of clients: 32
latency average = 39.120 ms
initial connection time = 61.209 ms
tps = 817.997841 (without initial connection time)
`
	tps, err := loadtest.ParsePgbenchTPS(out)
	require.NoError(t, err)
	require.InDelta(t, 817.997841, tps, 1e-6)
	_, err = loadtest.ParsePgbenchTPS("pgbench: error: connection refused")
	require.Error(t, err)
}

func TestSelect(t *testing.T) {
	t.Parallel()
	got, err := loadtest.Select("topup, pay")
	require.NoError(t, err)
	require.Equal(t, []string{"pay", "topup-spread", "topup-hot"}, got, "in run order, aliases expanded")
	got, err = loadtest.Select("all")
	require.NoError(t, err)
	require.Equal(t, loadtest.Names, got)
	_, err = loadtest.Select("pay,payy")
	require.ErrorContains(t, err, `"payy"`)
}

func TestJudge(t *testing.T) {
	t.Parallel()
	results := []loadtest.Result{
		{Scenario: "pay", Ratio: 0.41, Rate: 410},
		{Scenario: "pay-only", Op: "POST /payments", Units: 10, Ratio: 0.59, Latency: loadtest.Percentiles{P99: 50}},
		{Scenario: "topup-hot", Ratio: 0.30, Errors: map[string]int{"rate_limited": 1}},
	}
	byTarget := map[string]loadtest.Verdict{}
	for _, v := range loadtest.Judge(results, 1000) {
		byTarget[v.Target] = v
	}
	require.True(t, byTarget["mint-and-pay pairs (pay)"].Pass)
	require.False(t, byTarget["POST /payments alone (pay-only)"].Pass)
	require.True(t, byTarget["p99 of POST /payments, 32 clients (pay-only)"].Pass, "50 ms is within the target")
	require.False(t, byTarget["top-up hot wallet, no error (topup-hot)"].Pass, "a fast hot wallet with an error misses")
	require.True(t, byTarget["top-up spread (topup-spread)"].Missing, "not run")

	for _, v := range loadtest.Judge(results, 0) {
		if v.Want != "<= 50 ms" {
			require.True(t, v.Missing, "%s: no pgbench, no ratio to judge", v.Target)
		}
	}
}

func TestSetPgbench(t *testing.T) {
	t.Parallel()
	t.Run("DividesByTheMeanOfBeforeAndAfter", func(t *testing.T) {
		t.Parallel()
		r := &loadtest.Report{Results: []loadtest.Result{{Rate: 300}}}
		r.SetPgbench(800, 400)
		require.InDelta(t, 600, r.PgbenchTPS, 1e-9)
		require.InDelta(t, 0.5, r.Results[0].Ratio, 1e-9)
	})
	t.Run("FallsBackOnTheRunThatWorked", func(t *testing.T) {
		t.Parallel()
		r := &loadtest.Report{Results: []loadtest.Result{{Rate: 300}}}
		r.SetPgbench(600, 0)
		require.InDelta(t, 0.5, r.Results[0].Ratio, 1e-9)
	})
}
