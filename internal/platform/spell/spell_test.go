package spell_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/spell"
)

func TestNumber(t *testing.T) {
	t.Parallel()
	require.Equal(t, "five", spell.Number(5))
	require.Equal(t, "Five", spell.Capitalized(5))
	require.Equal(t, "zero", spell.Number(0))
	require.Equal(t, "13", spell.Number(13))
	require.Equal(t, "13", spell.Capitalized(13))
	require.Equal(t, "-1", spell.Number(-1))
}
