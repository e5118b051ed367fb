package loadtest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/loadtest"
)

func TestWriteChart(t *testing.T) {
	t.Parallel()
	r := &loadtest.Report{PgbenchTPS: 1000, Results: []loadtest.Result{
		{Scenario: "pay", Ratio: 0.015, Latency: loadtest.Percentiles{P99: 329}},
		{Scenario: "pay-hot"}, // nothing succeeded: a zero bar, not an error
		{Scenario: "topup-hot", Ratio: 0.08, Latency: loadtest.Percentiles{P99: 1084}},
	}}
	path := filepath.Join(t.TempDir(), "chart.png")
	require.NoError(t, loadtest.WriteChart(path, r))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")), "a PNG file")

	_, err = json.Marshal(r)
	require.NoError(t, err, "the report is what the JSON file holds")
}
