package customers_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

func TestCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	q := db.New(pool)
	tn := moneytest.NewTenant(t, pool)
	other := moneytest.NewTenant(t, pool)
	phone := moneytest.NewPhone()
	c, err := customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: phone,
		Profile: customers.Profile{DisplayName: "Lena K.", CardFingerprint: "fp-1", ProviderCustomerID: "crm-1"}})
	require.NoError(t, err)

	t.Run("FindsByEveryCredential", func(t *testing.T) {
		for _, get := range []func() (customers.Customer, error){
			func() (customers.Customer, error) { return customers.Get(ctx, q, tn.MerchantID, c.ID) },
			func() (customers.Customer, error) { return customers.GetByPhone(ctx, q, tn.MerchantID, phone) },
			func() (customers.Customer, error) {
				return customers.GetByCardFingerprint(ctx, q, tn.MerchantID, "fp-1")
			},
			func() (customers.Customer, error) {
				return customers.GetByProviderCustomerID(ctx, q, tn.MerchantID, "crm-1")
			},
		} {
			got, err := get()
			require.NoError(t, err)
			require.Equal(t, c, got)
		}
	})
	t.Run("AnotherMerchantFindsNothing", func(t *testing.T) {
		_, err := customers.Get(ctx, q, other.MerchantID, c.ID)
		require.ErrorIs(t, err, customers.ErrNotFound)
		_, err = customers.GetByPhone(ctx, q, other.MerchantID, phone)
		require.ErrorIs(t, err, customers.ErrNotFound)
	})
	t.Run("OnePhoneAndOneCredentialPerMerchant", func(t *testing.T) {
		_, err := customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: phone})
		require.ErrorIs(t, err, customers.ErrPhoneTaken)
		_, err = customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: moneytest.NewPhone(), Profile: customers.Profile{CardFingerprint: "fp-1"}})
		require.ErrorIs(t, err, customers.ErrCredentialTaken)
		_, err = customers.Create(ctx, q, customers.NewCustomer{MerchantID: other.MerchantID, Phone: phone, Profile: customers.Profile{CardFingerprint: "fp-1"}})
		require.NoError(t, err, "another merchant may have the same phone and card")
	})
	t.Run("RefusesAPhoneNotInE164", func(t *testing.T) {
		_, err := customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: "0151 1234567"})
		require.ErrorIs(t, err, customers.ErrInvalidPhone)
	})
	t.Run("UpdatesOnlyTheGivenFields", func(t *testing.T) {
		got, err := customers.UpdateProfile(ctx, q, tn.MerchantID, c.ID, customers.Profile{DisplayName: "Lena"})
		require.NoError(t, err)
		require.Equal(t, "Lena", got.DisplayName)
		require.Equal(t, "fp-1", got.CardFingerprint)
		_, err = customers.UpdateProfile(ctx, q, other.MerchantID, c.ID, customers.Profile{DisplayName: "x"})
		require.ErrorIs(t, err, customers.ErrNotFound)
	})
}
