package fielderr_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/fielderr"
)

var errInvalid = errors.New("invalid")

func TestError(t *testing.T) {
	t.Parallel()
	t.Run("UnwrapsToTheSentinel", func(t *testing.T) {
		t.Parallel()
		err := fielderr.New(errInvalid, "topup.ReloadBonusInput.Tiers", "Give 1 to %d tiers.", 20)
		require.ErrorIs(t, err, errInvalid)
		require.Equal(t, "Give 1 to 20 tiers.", err.Error())
		var f fielderr.Fielder
		require.ErrorAs(t, err, &f)
		require.Equal(t, fielderr.Field("topup.ReloadBonusInput.Tiers"), f.InputField().Field)
	})
	t.Run("FillsListIndexesInOrder", func(t *testing.T) {
		t.Parallel()
		err := fielderr.New(errInvalid, "x.In.A[].B[].C", "bad").At(3, 4)
		require.Equal(t, "x.In.A[3].B[4].C", err.Path())
	})
	t.Run("NamedFirstOpensWithTheField", func(t *testing.T) {
		t.Parallel()
		err := fielderr.New(errInvalid, "auth.NewKey.Name", "must be short")
		err.NamedFirst = true
		require.Equal(t, "auth.NewKey.Name must be short", err.Error())
	})
	t.Run("WithoutSentinelIsASentinel", func(t *testing.T) {
		t.Parallel()
		sentinel := &fielderr.Error{Input: fielderr.Input{Field: "x.In.A"}, Msg: "bad"}
		require.ErrorIs(t, sentinel, sentinel)
		require.NoError(t, errors.Unwrap(sentinel))
		require.Nil(t, sentinel.Details())
		require.Equal(t, map[string]any{"k": 1}, sentinel.WithDetails(map[string]any{"k": 1}).Details())
	})
}
