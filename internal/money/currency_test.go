package money_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/money"
)

func TestCurrencies(t *testing.T) {
	t.Parallel()

	t.Run("ServesEURUSDGBPAndJPY", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []money.Currency{{"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"JPY", 0}}, money.Currencies())
	})
	t.Run("ExponentKnowsOnlyServedCurrencies", func(t *testing.T) {
		t.Parallel()
		exp, ok := money.Exponent("JPY")
		require.True(t, ok)
		require.Zero(t, exp)
		_, ok = money.Exponent("XXX")
		require.False(t, ok)
	})
	t.Run("CurrenciesIsACopy", func(t *testing.T) {
		t.Parallel()
		c := money.Currencies()
		c[0].Exponent = 9
		exp, _ := money.Exponent("EUR")
		require.Equal(t, 2, exp)
	})
	t.Run("TheCeilingStaysBelowTwoToThe53", func(t *testing.T) {
		t.Parallel()
		require.Less(t, money.MaxAmountMinor, int64(1)<<53)
	})
}
