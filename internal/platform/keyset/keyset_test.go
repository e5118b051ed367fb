package keyset_test

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

func TestCursor(t *testing.T) {
	t.Parallel()
	listing := keyset.Listing("transactions", "mer_1", "int_1", "", "wal_1")
	pos := keyset.Position{At: time.Date(2026, 6, 1, 9, 42, 0, 123456000, time.UTC), Key: "txn_01JWRMNCJ7S1QZT7BJ0AX0KYVJ"}
	c := keyset.Encode(listing, pos)

	t.Run("RoundTrips", func(t *testing.T) {
		t.Parallel()
		got, err := keyset.Decode(listing, c)
		require.NoError(t, err)
		require.Equal(t, pos, got)
		dotted := keyset.Position{At: pos.At, Key: "GIFT.50-a_b"}
		got, err = keyset.Decode(listing, keyset.Encode(listing, dotted))
		require.NoError(t, err)
		require.Equal(t, dotted, got)
	})
	t.Run("RefusesAnotherListing", func(t *testing.T) {
		t.Parallel()
		_, err := keyset.Decode(keyset.Listing("transactions", "mer_1", "int_2", "", "wal_1"), c)
		require.ErrorIs(t, err, keyset.ErrInvalid)
	})
	t.Run("RefusesTampering", func(t *testing.T) {
		t.Parallel()
		raw, _ := base64.RawURLEncoding.DecodeString(c)
		for i := range raw {
			bad := append([]byte(nil), raw...)
			bad[i] ^= 0x01
			_, err := keyset.Decode(listing, base64.RawURLEncoding.EncodeToString(bad))
			require.ErrorIs(t, err, keyset.ErrInvalid, "byte %d", i)
		}
		for _, bad := range []string{"", "!!!", "a", base64.RawURLEncoding.EncodeToString([]byte("k1.x.y.z"))} {
			_, err := keyset.Decode(listing, bad)
			require.ErrorIs(t, err, keyset.ErrInvalid)
		}
	})
	t.Run("NamesTheCursor", func(t *testing.T) {
		t.Parallel()
		var f fielderr.Fielder
		require.True(t, errors.As(keyset.ErrInvalid, &f))
		require.Equal(t, keyset.FieldCursor, f.InputField().Field)
	})
	t.Run("PageHasMoreWithACursor", func(t *testing.T) {
		t.Parallel()
		require.False(t, keyset.Page[int]{Items: []int{1}}.HasMore())
		require.True(t, keyset.Page[int]{Items: []int{1}, NextCursor: c}.HasMore())
	})
}
