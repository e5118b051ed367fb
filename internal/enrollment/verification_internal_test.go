package enrollment

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/secrethash"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	codes, err := secrethash.New(config.Sandbox, bytes.Repeat([]byte{1}, 32), nil)
	require.NoError(t, err)
	const id = "ver_01JWREDZS08C5W3VCRQEDKC38Q"

	t.Run("CodesAreSixDigitsAndTokensLong", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		for range 200 {
			s, err := newSecrets(codes, id)
			require.NoError(t, err)
			require.Regexp(t, `^\d{6}$`, s.code)
			require.GreaterOrEqual(t, len(s.linkToken), 16)
			require.LessOrEqual(t, len(s.linkToken), 256)
			seen[s.linkToken] = true
		}
		require.Len(t, seen, 200, "link tokens never repeat")
	})

	t.Run("OnlyTheRightSecretMatches", func(t *testing.T) {
		t.Parallel()
		s, err := newSecrets(codes, id)
		require.NoError(t, err)
		v := verification{id: id, codeHash: s.codeHash, linkHash: s.linkHash}
		require.True(t, v.matches(codes, Proof{Code: s.code}))
		require.True(t, v.matches(codes, Proof{LinkToken: s.linkToken}))
		require.False(t, v.matches(codes, Proof{Code: wrongCode(s.code)}))
		require.False(t, v.matches(codes, Proof{LinkToken: s.linkToken + "x"}))
		require.False(t, v.matches(codes, Proof{LinkToken: s.code}), "a code is not a link token")
		other := v
		other.id = "ver_01JWREDZS08C5W3VCRQEDKC38R"
		require.False(t, other.matches(codes, Proof{Code: s.code}), "a hash copied onto another verification matches nothing")
	})

	t.Run("AnotherKEKMatchesNothingButAPreviousOneStillDoes", func(t *testing.T) {
		t.Parallel()
		s, err := newSecrets(codes, id)
		require.NoError(t, err)
		v := verification{id: id, codeHash: s.codeHash, linkHash: s.linkHash}
		newKEK := bytes.Repeat([]byte{2}, 32)
		stranger, err := secrethash.New(config.Sandbox, newKEK, nil)
		require.NoError(t, err)
		require.False(t, v.matches(stranger, Proof{Code: s.code}))
		rotated, err := secrethash.New(config.Sandbox, newKEK, bytes.Repeat([]byte{1}, 32))
		require.NoError(t, err)
		require.True(t, v.matches(rotated, Proof{Code: s.code}), "FEDDI_KEK_PREVIOUS keeps a code sent before the rotation")
	})
}

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestVerificationRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 9, 42, 0, 0, time.UTC)
	fresh := verification{id: "ver_x", customerID: "cus_x", expiresAt: now.Add(CodeLifetime), lastSentAt: now}

	t.Run("AFreshVerificationHasEverything", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, State{VerificationID: "ver_x", ExpiresAt: now.Add(15 * time.Minute), AttemptsRemaining: 5,
			ResendsRemaining: 3, ResendAvailableAt: now.Add(time.Minute)}, fresh.state(now))
		require.NoError(t, fresh.checkUsable(now))
	})

	t.Run("VerifiedIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		v := fresh
		v.verified = true
		var already *AlreadyEnrolledError
		require.ErrorAs(t, v.checkUsable(now), &already)
		require.Equal(t, "cus_x", already.CustomerID)
		require.ErrorIs(t, v.checkResend(now.Add(time.Hour)), ErrAlreadyEnrolled)
	})

	t.Run("FiveFailuresExhaust", func(t *testing.T) {
		t.Parallel()
		v := fresh
		v.failedAttempts = 4
		require.NoError(t, v.checkUsable(now))
		require.Equal(t, 1, v.state(now).AttemptsRemaining)
		v.failedAttempts = 5
		require.ErrorIs(t, v.checkUsable(now), ErrAttemptsExhausted)
		require.Zero(t, v.state(now).AttemptsRemaining)
	})

	t.Run("ExpiresAfterFifteenMinutes", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, fresh.checkUsable(now.Add(CodeLifetime-time.Second)))
		require.ErrorIs(t, fresh.checkUsable(now.Add(CodeLifetime)), ErrExpired)
	})

	t.Run("ResendWaitsSixtySeconds", func(t *testing.T) {
		t.Parallel()
		err := fresh.checkResend(now.Add(23 * time.Second))
		var wait *WaitError
		require.ErrorAs(t, err, &wait)
		require.ErrorIs(t, err, ErrRateLimited)
		require.Equal(t, 37*time.Second, wait.Wait)
		require.Equal(t, map[string]any{"retry_after_seconds": 37}, wait.Details())
		require.NoError(t, fresh.checkResend(now.Add(time.Minute)))
	})

	t.Run("ThreeResendsPerRollingDay", func(t *testing.T) {
		t.Parallel()
		v := fresh
		first := now.Add(-23 * time.Hour)
		v.resentAt = []time.Time{now.Add(-25 * time.Hour), first, now.Add(-2 * time.Hour), now.Add(-time.Hour)}
		v.lastSentAt = now.Add(-time.Hour)
		err := v.checkResend(now)
		var wait *WaitError
		require.ErrorAs(t, err, &wait)
		require.ErrorIs(t, err, ErrResendLimitReached)
		require.Equal(t, first.Add(ResendWindow).Sub(now), wait.Wait)
		s := v.state(now)
		require.Zero(t, s.ResendsRemaining)
		require.Equal(t, first.Add(ResendWindow), s.ResendAvailableAt)

		// The oldest counted resend leaves the window: one is free again.
		later := first.Add(ResendWindow).Add(time.Second)
		require.NoError(t, v.checkResend(later))
		require.Equal(t, 1, v.state(later).ResendsRemaining)
	})

	t.Run("TheLimitIsReportedBeforeTheSpacing", func(t *testing.T) {
		t.Parallel()
		v := fresh
		v.resentAt = []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Hour), now}
		require.ErrorIs(t, v.checkResend(now.Add(time.Second)), ErrResendLimitReached)
	})
}
