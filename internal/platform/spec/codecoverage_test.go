package spec_test

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestErrorCodeCoverageReport prints, per operation, the documented error
// codes no test provoked. `make codes` runs every test with FEDDI_TEST_CODES
// set (apptest records each error response there), then this report.
func TestErrorCodeCoverageReport(t *testing.T) {
	path := os.Getenv("FEDDI_TEST_CODES_REPORT")
	if path == "" {
		t.Skip("run through `make codes`")
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		seen[sc.Text()] = true
	}
	require.NoError(t, sc.Err())

	s := load(t)
	documented, provoked := 0, 0
	var lines []string
	for _, op := range s.Operations() {
		var missing []string
		for _, code := range op.ErrorCodes {
			documented++
			if seen[op.ID+" "+code] {
				provoked++
			} else {
				missing = append(missing, code)
			}
		}
		if len(missing) > 0 {
			lines = append(lines, op.ID+": "+strings.Join(missing, ", "))
		}
	}
	sort.Strings(lines)
	t.Logf("provoked %d of %d documented (operation, code) pairs; never provoked:\n%s", provoked, documented, strings.Join(lines, "\n"))
}
