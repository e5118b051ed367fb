package wallets_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/wallets"
)

func TestWallets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	q := db.New(pool)
	tn := moneytest.NewTenant(t, pool)
	c, err := customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: moneytest.NewPhone()})
	require.NoError(t, err)
	w, err := wallets.Create(ctx, q, wallets.NewWallet{MerchantID: tn.MerchantID, CustomerID: c.ID, Currency: "EUR", Status: wallets.StatusPendingProof, Now: time.Now()})
	require.NoError(t, err)

	t.Run("StartsEmptyAndPending", func(t *testing.T) {
		require.Equal(t, wallets.StatusPendingProof, w.Status)
		require.Nil(t, w.VerifiedAt)
		require.Zero(t, w.Balance.Spendable())
		require.Equal(t, "EUR", w.Balance.Currency)
	})
	t.Run("OnePerCustomerAndCurrency", func(t *testing.T) {
		_, err := wallets.Create(ctx, q, wallets.NewWallet{MerchantID: tn.MerchantID, CustomerID: c.ID, Currency: "EUR", Status: wallets.StatusVerified, Now: time.Now()})
		require.ErrorIs(t, err, wallets.ErrAlreadyExists)
		usd, err := wallets.Create(ctx, q, wallets.NewWallet{MerchantID: tn.MerchantID, CustomerID: c.ID, Currency: "USD", Status: wallets.StatusVerified, Now: time.Now()})
		require.NoError(t, err)
		require.NotNil(t, usd.VerifiedAt)
		all, err := wallets.ListByCustomer(ctx, q, tn.MerchantID, c.ID)
		require.NoError(t, err)
		require.Len(t, all, 2)
		got, err := wallets.GetByCustomer(ctx, q, tn.MerchantID, c.ID, "USD")
		require.NoError(t, err)
		require.Equal(t, usd.ID, got.ID)
	})
	t.Run("RefusesAnUnservedCurrency", func(t *testing.T) {
		_, err := wallets.Create(ctx, q, wallets.NewWallet{MerchantID: tn.MerchantID, CustomerID: c.ID, Currency: "CHF", Status: wallets.StatusVerified, Now: time.Now()})
		require.ErrorIs(t, err, wallets.ErrCurrencyNotSupported)
	})
	t.Run("MarkVerifiedIsIdempotent", func(t *testing.T) {
		verifiedAt := time.Now().Add(-time.Hour)
		first, err := wallets.MarkVerified(ctx, q, tn.MerchantID, w.ID, verifiedAt)
		require.NoError(t, err)
		require.Equal(t, wallets.StatusVerified, first.Status)
		require.WithinDuration(t, verifiedAt, *first.VerifiedAt, time.Millisecond, "verified at the clock's time")
		again, err := wallets.MarkVerified(ctx, q, tn.MerchantID, w.ID, time.Now())
		require.NoError(t, err)
		require.Equal(t, first.VerifiedAt, again.VerifiedAt)
	})
	t.Run("AnotherMerchantSeesNothing", func(t *testing.T) {
		other := moneytest.NewTenant(t, pool)
		_, err := wallets.Get(ctx, q, other.MerchantID, w.ID)
		require.ErrorIs(t, err, wallets.ErrNotFound)
		_, err = wallets.MarkVerified(ctx, q, other.MerchantID, w.ID, time.Now())
		require.ErrorIs(t, err, wallets.ErrNotFound)
	})
	t.Run("CheckCreditKeepsActualUnderTheCeiling", func(t *testing.T) {
		full := wallets.Wallet{}
		full.Balance.Actual = money.MaxAmountMinor - 10
		require.NoError(t, wallets.CheckCredit(full, 10))
		require.ErrorIs(t, wallets.CheckCredit(full, 11), wallets.ErrBalanceCeiling)
	})
}
