package secrethash_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/secrethash"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	kek, next := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	h, err := secrethash.New(config.Live, kek, nil)
	require.NoError(t, err)

	t.Run("LiveNeedsARealKEK", func(t *testing.T) {
		t.Parallel()
		_, err := secrethash.New(config.Live, nil, nil)
		require.Error(t, err)
		_, err = secrethash.New(config.Live, secrethash.DevelopmentKEK(), nil)
		require.Error(t, err)
		_, err = secrethash.New(config.Live, kek, secrethash.DevelopmentKEK())
		require.Error(t, err)
		_, err = secrethash.New(config.Live, []byte("short"), nil)
		require.Error(t, err)
		dev, err := secrethash.New(config.Sandbox, nil, nil)
		require.NoError(t, err)
		require.True(t, dev.Development, "a sandbox without FEDDI_KEK uses the public development KEK")
	})

	t.Run("PurposesAndPartsSeparate", func(t *testing.T) {
		t.Parallel()
		a := h.Sum(secrethash.OTPCode, "otp_1", "123456")
		require.Len(t, a, 32)
		require.Equal(t, a, h.Sum(secrethash.OTPCode, "otp_1", "123456"))
		require.NotEqual(t, a, h.Sum(secrethash.EnrollmentCode, "otp_1", "123456"), "each purpose has its own key")
		require.NotEqual(t, a, h.Sum(secrethash.OTPCode, "otp_11", "23456"), "parts are length-prefixed")
		require.NotEqual(t, a, h.Sum(secrethash.OTPCode, "otp_2", "123456"))
	})

	t.Run("RotationChecksThePreviousKEK", func(t *testing.T) {
		t.Parallel()
		old := h.Sum(secrethash.ShortCode, "mer_1", "12345678")
		fresh, err := secrethash.New(config.Live, next, nil)
		require.NoError(t, err)
		require.False(t, fresh.Matches(old, secrethash.ShortCode, "mer_1", "12345678"), "another KEK matches nothing")
		rotating, err := secrethash.New(config.Live, next, kek)
		require.NoError(t, err)
		require.True(t, rotating.Matches(old, secrethash.ShortCode, "mer_1", "12345678"))
		require.Equal(t, fresh.Sum(secrethash.ShortCode, "mer_1", "12345678"), rotating.Sum(secrethash.ShortCode, "mer_1", "12345678"), "new hashes use the new KEK")
		require.Len(t, rotating.Sums(secrethash.ShortCode, "mer_1", "12345678"), 2)
	})
}
