package loadtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// utime 250 and stime 50 ticks; the command name holds a space and a parenthesis.
	stat := "4242 (feddi (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	cpu, err := parseStatCPU(stat)
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, cpu)
	_, err = parseStatCPU("garbage")
	require.Error(t, err)
}
