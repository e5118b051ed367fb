package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments/paymenttest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// BenchmarkPayment measures POST /payments (authorize and capture in one
// call) against the real HTTP server and database: 32 concurrent clients
// paying from 4 hot wallets, each payment with a QR token of its own. It
// reports payments per second and the p50 and p99 latency. Responses are
// not validated against the document here (production does not either).
func BenchmarkPayment(b *testing.B) {
	const (
		clients = 32
		amount  = 1000
	)
	hotWallets := 4
	if n, err := strconv.Atoi(os.Getenv("FEDDI_BENCH_WALLETS")); err == nil && n > 0 {
		hotWallets = n
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(b)+benchPoolSize()+os.Getenv("FEDDI_BENCH_URL_EXTRA"))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	a, err := app.New(ctx, config.Defaults(), pool, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(a.Handler)
	defer ts.Close()
	c, err := client.NewClientWithResponses(ts.URL, client.WithHTTPClient(&http.Client{
		Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients},
	}))
	if err != nil {
		b.Fatal(err)
	}
	boot, err := a.Server.Auth.Bootstrap(ctx, "Bench Merchant", "Bench POS")
	if err != nil {
		b.Fatal(err)
	}
	auth := moneytest.Key(boot.Key.Secret)
	tn := moneytest.Tenant{MerchantID: boot.Merchant.ID, IntegrationID: boot.Integration.ID}

	var tokens []string
	perWallet := b.N/hotWallets + 1
	byWallet := make([][]string, hotWallets)
	for i := range hotWallets {
		w := moneytest.Wallet(b, pool, tn, moneytest.WalletOpts{})
		res, err := c.ConfirmTopupWithResponse(ctx, &client.ConfirmTopupParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.ConfirmTopupInput{Meta: moneytest.Meta(), Data: client.ConfirmTopupInputData{
				WalletId: w.ID, AmountMinor: 100_000_000_000, Currency: "EUR", Provider: "adyen", SettlementReference: moneytest.NewIdemKey(),
			}}, auth)
		if err != nil || res.StatusCode() != http.StatusOK {
			b.Fatalf("funding a wallet: %v %s", err, res.Body)
		}
		byWallet[i] = paymenttest.Tokens(b, pool, tn.MerchantID, w.ID, perWallet, time.Hour)
	}
	for i := range perWallet { // interleave, so every wallet is hot at once
		for _, ws := range byWallet {
			tokens = append(tokens, ws[i])
		}
	}

	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				res, err := c.CreatePaymentWithResponse(ctx, &client.CreatePaymentParams{IdempotencyKey: moneytest.NewIdemKey()},
					client.CreatePaymentInput{Meta: moneytest.Meta(), Data: eur(amount, qrCredential(tokens[i]))}, auth)
				latencies[i] = time.Since(t0)
				if err != nil || res.StatusCode() != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d payments failed", n, b.N)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "payments/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(0, "ns/op") // the figures above say it; ns/op of a parallel run misleads
}

// benchPoolSize sizes the server's pool from FEDDI_BENCH_POOL (pgx's
// pool_max_conns); unset, pgx's default applies, as in production when
// DATABASE_URL names no pool_max_conns.
func benchPoolSize() string {
	if n := os.Getenv("FEDDI_BENCH_POOL"); n != "" {
		return "&pool_max_conns=" + n
	}
	return ""
}
