package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/payments"
)

// The messages built from the constants read as they did when the numbers
// were written out by hand (the defaults).
func TestMessagesBuiltFromConstants(t *testing.T) {
	t.Parallel()
	msg := func(err error) string {
		t.Helper()
		mapped, ok := MapError(err)
		require.True(t, ok)
		return mapped.Message
	}
	require.Equal(t, "Five wrong codes: ask for a new one with POST /enroll/resend.", msg(enrollment.ErrAttemptsExhausted))
	require.Equal(t, "No more resends for now: 3 were sent in the last 24 hours.", msg(enrollment.ErrResendLimitReached))
	require.Equal(t, "five wrong codes: this code is dead; ask for a new one with POST /enroll/resend", enrollment.ErrAttemptsExhausted.Error())
	require.Equal(t, "no more resends for now: 3 were sent in the last 24 hours", enrollment.ErrResendLimitReached.Error())
	require.Equal(t, "Five wrong one-time codes: the challenge is dead. Start a new one.", msg(payments.ErrOTPAttemptsExhausted))
}
