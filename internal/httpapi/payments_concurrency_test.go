package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/payments/paymenttest"
)

// TestConcurrentPaymentsNeverOverdraw pays from one wallet from many
// clients at once (each with a QR token of its own): the wallet is never
// overdrawn, what was authorized is exactly what left the wallet, and the
// ledger stays balanced with the wallet's balance equal to its entries.
func TestConcurrentPaymentsNeverOverdraw(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long concurrent mix: make test runs it")
	}
	e := newPayEnv(t)
	const (
		clients = 48
		amount  = 300
	)
	w := e.wallet(10000, grantSpec{1800, 24 * time.Hour}, grantSpec{1200, 48 * time.Hour}) // 13 000 spendable
	tokens := paymenttest.Tokens(t, e.S.Pool, e.Tenant.MerchantID, w.ID, clients, time.Hour)

	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		authorized int64
		paid, poor int
	)
	for i := range clients {
		wg.Go(func() {
			manual := client.CaptureModeManual
			if i%2 == 0 {
				manual = client.CaptureModeAutomatic
			}
			d := eur(amount, qrCredential(tokens[i]))
			d.Capture = &manual
			res := e.pay(d)
			mu.Lock()
			defer mu.Unlock()
			switch res.StatusCode() {
			case http.StatusOK:
				paid++
				authorized += res.JSON200.Data.AuthorizedMinor
			case http.StatusPaymentRequired:
				poor++
			default:
				t.Errorf("unexpected answer %d: %s", res.StatusCode(), res.Body)
			}
		})
	}
	wg.Wait()

	require.Equal(t, 13000/amount, paid)
	require.Equal(t, clients-paid, poor)
	b := e.balance(w.ID).Balance
	require.Equal(t, int64(13000)-authorized, b.Actual+b.PromoAvailable)
	require.GreaterOrEqual(t, b.Actual, int64(0))

	ctx := context.Background()
	var unbalanced int
	require.NoError(t, e.S.Pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT transaction_id FROM ledger_entries GROUP BY transaction_id, currency, money_class HAVING sum(amount_minor) <> 0
		) x`).Scan(&unbalanced))
	require.Zero(t, unbalanced, "every transaction balances per currency and class")
	var actual, promo int64
	require.NoError(t, e.S.Pool.QueryRow(ctx, `
		SELECT coalesce(sum(amount_minor) FILTER (WHERE account = 'wallet:' || $1 || ':actual'), 0),
		       coalesce(sum(amount_minor) FILTER (WHERE account = 'wallet:' || $1 || ':promo_available'), 0)
		FROM ledger_entries WHERE wallet_id = $1`, w.ID).Scan(&actual, &promo))
	require.Equal(t, b.Actual, actual, "the wallet's actual balance equals its entries")
	require.Equal(t, b.PromoAvailable, promo, "the wallet's promo balance equals its entries")
	var debited int64
	require.NoError(t, e.S.Pool.QueryRow(ctx, `
		SELECT -coalesce(sum(actual_delta_minor + promo_delta_minor), 0) FROM ledger_transactions
		WHERE wallet_id = $1 AND type IN ('payment', 'payment_authorization')`, w.ID).Scan(&debited))
	require.Equal(t, authorized, debited, "the sum authorized is the sum debited")
}
