package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// registeredNames are the metric names s exposes, from the descriptions of
// its collectors (a vector with no series yet is described all the same).
func registeredNames(t *testing.T, s *Set) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range []prometheus.Collector{
			s.requests, s.requestDuration, s.replays, s.rateLimited, s.jobs, s.jobDuration,
			s.payments, s.moneyAuthorized, s.moneyCaptured, s.moneyToppedUp, s.sms,
			newPoolCollector(nil),
		} {
			c.Describe(ch)
		}
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		require.NotNil(t, m, "desc %s", d)
		names[m[1]] = true
	}
	families, err := s.Registry.Gather() // the build info and runtime collectors
	require.NoError(t, err)
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

var metricName = regexp.MustCompile(`\b(?:feddi|go|process)_[a-z0-9_]+\b`)

// unknownMetrics lists the metric names the dashboard's queries use that
// names lacks (a histogram's _bucket, _sum and _count series count as its
// name).
func unknownMetrics(t *testing.T, dashboard []byte, names map[string]bool) []string {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(dashboard, &doc))
	var queries []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if s, ok := child.(string); ok && (k == "expr" || k == "query") {
					queries = append(queries, s)
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
	require.NotEmpty(t, queries, "the dashboard has no queries")
	unknown := map[string]bool{}
	for _, q := range queries {
		for _, name := range metricName.FindAllString(q, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if trimmed, ok := strings.CutSuffix(name, suffix); ok && names[trimmed] {
					base = trimmed
				}
			}
			if !names[base] {
				unknown[name] = true
			}
		}
	}
	out := make([]string, 0, len(unknown))
	for n := range unknown {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestDashboardQueriesOnlyRegisteredMetrics: every metric the Grafana
// dashboard (deploy/grafana/feddi.json) queries is one the service
// exposes, so renaming a metric breaks this test, not an operator's panel.
func TestDashboardQueriesOnlyRegisteredMetrics(t *testing.T) {
	t.Parallel()
	names := registeredNames(t, New(nil))
	dashboard, err := os.ReadFile("../../../deploy/grafana/feddi.json")
	require.NoError(t, err)
	require.Empty(t, unknownMetrics(t, dashboard, names))

	t.Run("CatchesAMetricThatDoesNotExist", func(t *testing.T) {
		planted := strings.Replace(string(dashboard), "feddi_payments_total", "feddi_payment_total", 1)
		require.Equal(t, []string{"feddi_payment_total"}, unknownMetrics(t, []byte(planted), names))
	})
}
