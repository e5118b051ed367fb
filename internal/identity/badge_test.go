package identity_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/wallets"
)

func TestBadgeOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	verified := func(daysAgo int) wallets.Wallet {
		at := now.Add(-time.Duration(daysAgo) * 24 * time.Hour)
		return wallets.Wallet{Status: wallets.StatusVerified, VerifiedAt: &at}
	}
	for _, c := range []struct {
		name           string
		w              wallets.Wallet
		topups, amount int64
		want           identity.Badge
	}{
		{"PendingProofIsAlwaysNew", wallets.Wallet{Status: wallets.StatusPendingProof}, 10, 1_000_000, identity.BadgeNew},
		{"FreshlyVerifiedIsNew", verified(1), 2, 100, identity.BadgeNew},
		{"ThirtyDaysIsRegular", verified(30), 0, 0, identity.BadgeRegular},
		{"ThreeTopupsIsRegular", verified(1), 3, 300, identity.BadgeRegular},
		{"NinetyDaysAndFiveThousandIsVIP", verified(90), 1, 500_000, identity.BadgeVIP},
		{"NinetyDaysWithLessIsRegular", verified(90), 5, 499_999, identity.BadgeRegular},
		{"MoneyWithoutAgeIsRegular", verified(89), 1, 900_000, identity.BadgeRegular},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, identity.BadgeOf(c.w, c.topups, c.amount, now))
		})
	}
}
