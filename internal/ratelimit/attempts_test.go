package ratelimit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/ratelimit"
)

func TestCallingCode(t *testing.T) {
	t.Parallel()
	for phone, want := range map[string]string{
		"+4915112345678": "49",  // Germany: two digits
		"+447700900001":  "44",  // United Kingdom
		"+12125550100":   "1",   // North America: one digit
		"+74951234567":   "7",   // Russia
		"+353871234567":  "353", // Ireland: three digits
		"+380501234567":  "380", // Ukraine: 38 is no two-digit code
		"+2348031234567": "234", // Nigeria
		"+27821234567":   "27",  // South Africa
		"":               "unknown",
	} {
		require.Equal(t, want, ratelimit.CallingCode(phone), phone)
	}
}
