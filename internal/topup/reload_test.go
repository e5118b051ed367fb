package topup

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/fielderr"
)

func ptr(v int64) *int64 { return &v }

func TestBonusFor(t *testing.T) {
	t.Parallel()
	cfg := ReloadBonusConfig{Active: true, Tiers: []Tier{
		{MinTopup: 2000, BonusFixed: 100},
		{MinTopup: 5000, BonusBps: 1000, MaxBonus: 1000},
		{MinTopup: 20000, BonusBps: 1250},
	}}
	for _, c := range []struct {
		amount, want int64
	}{
		{1999, 0},     // below every tier
		{2000, 100},   // fixed
		{4999, 100},   // still the first tier
		{5000, 500},   // 10 %
		{9999, 999},   // rounds down
		{15000, 1000}, // capped
		{20000, 2500}, // highest tier reached, no cap
		{1_000_000_000_000, 125_000_000_000},
	} {
		require.Equal(t, c.want, cfg.BonusFor(c.amount), "amount %d", c.amount)
	}
	cfg.Active = false
	require.Zero(t, cfg.BonusFor(50000), "an inactive config earns nothing")
}

func TestValidTiers(t *testing.T) {
	t.Parallel()
	t.Run("SortsByMinimum", func(t *testing.T) {
		t.Parallel()
		got, err := validTiers([]TierInput{{MinTopup: 5000, BonusBps: ptr(1000), MaxBonus: ptr(1000)}, {MinTopup: 2000, BonusFixed: ptr(100)}})
		require.NoError(t, err)
		require.Equal(t, []Tier{{MinTopup: 2000, BonusFixed: 100}, {MinTopup: 5000, BonusBps: 1000, MaxBonus: 1000}}, got)
	})
	for name, c := range map[string]struct {
		in    []TierInput
		field string
	}{
		"Both":             {[]TierInput{{MinTopup: 1, BonusBps: ptr(1), BonusFixed: ptr(1)}}, "topup.ReloadBonusInput.Tiers[0]"},
		"Neither":          {[]TierInput{{MinTopup: 1}, {MinTopup: 2}}, "topup.ReloadBonusInput.Tiers[0]"},
		"CapOnFixed":       {[]TierInput{{MinTopup: 1, BonusFixed: ptr(1), MaxBonus: ptr(5)}}, "topup.ReloadBonusInput.Tiers[0].MaxBonus"},
		"DuplicateMinimum": {[]TierInput{{MinTopup: 1, BonusFixed: ptr(1)}, {MinTopup: 1, BonusBps: ptr(5)}}, "topup.ReloadBonusInput.Tiers[1].MinTopup"},
		"None":             {nil, "topup.ReloadBonusInput.Tiers"},
	} {
		t.Run("Refuses"+name, func(t *testing.T) {
			t.Parallel()
			_, err := validTiers(c.in)
			require.ErrorIs(t, err, ErrInvalid)
			var fe *fielderr.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.field, fe.Path())
		})
	}
}
