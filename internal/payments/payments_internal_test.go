package payments

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
)

func TestLastAllocatedFirst(t *testing.T) {
	t.Parallel()
	as := []grants.Allocation{{GrantID: "a", Amount: 1000}, {GrantID: "b", Amount: 500}}
	require.Equal(t, []grants.Allocation{}, lastAllocatedFirst(as, 0))
	require.Equal(t, []grants.Allocation{{GrantID: "b", Amount: 300}}, lastAllocatedFirst(as, 300))
	require.Equal(t, []grants.Allocation{{GrantID: "b", Amount: 500}, {GrantID: "a", Amount: 700}}, lastAllocatedFirst(as, 1200))
	require.Equal(t, []grants.Allocation{{GrantID: "b", Amount: 500}, {GrantID: "a", Amount: 1000}}, lastAllocatedFirst(as, 1500))
}

func TestCredentialCombinations(t *testing.T) {
	t.Parallel()
	ok := []Credential{
		{Type: CredentialQR, Value: "12345678"},
		{Type: CredentialOTP, Phone: "+4915112345678"},
		{Type: CredentialOTP, ChallengeID: "otp_x", Code: "123456"},
	}
	for _, c := range ok {
		require.NoError(t, c.check(), "%+v", c)
	}
	bad := []Credential{
		{Type: CredentialQR},
		{Type: CredentialQR, Value: "1", Phone: "+4915112345678"},
		{Type: CredentialOTP},
		{Type: CredentialOTP, Phone: "+4915112345678", Code: "123456"},
		{Type: CredentialOTP, ChallengeID: "otp_x"},
		{Type: CredentialOTP, Value: "12345678"},
		{Type: "card", Value: "x"},
	}
	for _, c := range bad {
		require.ErrorIs(t, c.check(), ErrCredentialMalformed, "%+v", c)
	}
}

func TestEntriesBalancePerClass(t *testing.T) {
	t.Parallel()
	p := Payment{ID: "pay_01JWREDZS08C5W3VCRQEDKC38Q", MerchantID: "mer_01JWRE50E1W5M9R0BDM49CMM0T",
		WalletID: "wal_01JWRNGNKDE6EDYKDM9WBETHSM", PromoApplied: 1500, ActualApplied: 950}
	sum := func(es []ledger.Entry) map[ledger.Class]int64 {
		out := map[ledger.Class]int64{}
		for _, e := range es {
			out[e.Account.Class()] += e.Amount
			require.NotZero(t, e.Amount)
		}
		return out
	}
	for _, es := range [][]ledger.Entry{
		authorizationEntries(p),
		captureEntries(p, 500, 950),
		releaseEntries(p, 0, grants.Returned{Restored: []grants.Allocation{{GrantID: "a", Amount: 600}}, Expired: 400}),
		releaseEntries(p, 0, grants.Returned{Expired: 100, ClawedBack: 400}),
		releaseEntries(p, 950, grants.Returned{}),
	} {
		require.Equal(t, map[ledger.Class]int64{}, withoutZeros(sum(es)))
	}
	require.Len(t, authorizationEntries(Payment{PromoApplied: 0, ActualApplied: 10, ID: p.ID, WalletID: p.WalletID}), 2)
}

func TestExpiryBackoffDoublesToItsCeiling(t *testing.T) {
	t.Parallel()
	require.Equal(t, ExpiryBackoff, expiryBackoff(0))
	require.Equal(t, 2*ExpiryBackoff, expiryBackoff(1))
	require.Equal(t, 32*ExpiryBackoff, expiryBackoff(5))
	require.Equal(t, MaxExpiryBackoff, expiryBackoff(6))
	require.Equal(t, MaxExpiryBackoff, expiryBackoff(1<<30))
}

func withoutZeros(m map[ledger.Class]int64) map[ledger.Class]int64 {
	for k, v := range m {
		if v == 0 {
			delete(m, k)
		}
	}
	return m
}

func TestInsufficientFundsDetails(t *testing.T) {
	t.Parallel()
	err := &InsufficientFundsError{Amount: 20000, Balance: ledger.Balance{Currency: "EUR", Actual: 12000, PromoAvailable: 1500, PromoLocked: 300}}
	require.ErrorIs(t, err, ErrInsufficientFunds)
	require.Equal(t, "The wallet cannot cover 200.00 EUR.", err.Error())
	require.Equal(t, map[string]any{
		"amount_minor": int64(20000), "spendable_minor": int64(13500), "shortfall_minor": int64(6500),
		"actual_minor": int64(12000), "promo_available_minor": int64(1500), "promo_locked_minor": int64(300), "currency": "EUR",
	}, err.Details())
	require.Equal(t, "The wallet cannot cover 500 JPY.", (&InsufficientFundsError{Amount: 500, Balance: ledger.Balance{Currency: "JPY"}}).Error())
	require.Equal(t, "0.05", formatMinor(5, "EUR"))
}

func TestRefundAllocations(t *testing.T) {
	t.Parallel()
	as := []grants.Allocation{{GrantID: "a", Amount: 1000}, {GrantID: "b", Amount: 500}, {GrantID: "c", Amount: 200}}
	p := Payment{Allocations: as, PromoApplied: 1700, PromoCaptured: 1700}
	// Newest allocation first.
	require.Equal(t, []grants.Allocation{{GrantID: "c", Amount: 200}, {GrantID: "b", Amount: 100}}, refundAllocations(p, 300))
	// After 300 already returned (refunded or forfeited), the next refund continues below it.
	p.PromoRefunded, p.PromoForfeited = 100, 200
	require.Equal(t, []grants.Allocation{{GrantID: "b", Amount: 400}, {GrantID: "a", Amount: 200}}, refundAllocations(p, 600))
	// A partial capture kept the first-allocated promo: only that is refunded.
	p = Payment{Allocations: as, PromoApplied: 1700, PromoCaptured: 1200}
	require.Equal(t, []grants.Allocation{{GrantID: "b", Amount: 200}, {GrantID: "a", Amount: 1000}}, refundAllocations(p, 1200))
	require.Equal(t, []grants.Allocation{}, refundAllocations(p, 0))
}
