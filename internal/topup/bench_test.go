package topup_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// BenchmarkTopUp measures POST /topup/confirm end to end: 32 concurrent
// clients over HTTP against the real server (no response validation, as in
// production) on a real database, every top-up earning a reload bonus (the
// full path: idempotency record, wallet lock, bonus config, credit, grant,
// grant credit). wallets=64 spreads the clients over many customers;
// wallets=1 queues them all on one hot wallet's row lock.
func BenchmarkTopUp(b *testing.B) {
	const clients = 32
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(b)+"&pool_max_conns="+strconv.Itoa(clients))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	a, err := app.New(ctx, config.Defaults(), pool, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	b.Cleanup(srv.Close)
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	c, err := client.NewClientWithResponses(srv.URL, client.WithHTTPClient(httpClient))
	if err != nil {
		b.Fatal(err)
	}
	boot, err := a.Server.Auth.Bootstrap(ctx, "Bench Merchant", "Bench POS")
	if err != nil {
		b.Fatal(err)
	}
	auth := moneytest.Key(boot.Key.Secret)
	tn := moneytest.Tenant{MerchantID: boot.Merchant.ID, IntegrationID: boot.Integration.ID}
	if res, err := c.SetReloadBonusConfigWithResponse(ctx, &client.SetReloadBonusConfigParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.SetReloadBonusConfigInput{Meta: moneytest.Meta(), Data: tiers()}, auth); err != nil || res.StatusCode() != http.StatusOK {
		b.Fatalf("setting tiers: %v", err)
	}
	many := make([]string, 64)
	for i := range many {
		many[i] = moneytest.Wallet(b, pool, tn, moneytest.WalletOpts{}).ID
	}

	for _, set := range []struct {
		name    string
		wallets []string
	}{{"wallets=64", many}, {"wallets=1", many[:1]}} {
		b.Run(set.name, func(b *testing.B) {
			var next atomic.Int64
			latencies := make([][]time.Duration, clients)
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range clients {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						key := fmt.Sprintf("bench-%s-%d-%d", set.name, b.N, i)
						t0 := time.Now()
						res, err := c.ConfirmTopupWithResponse(ctx, &client.ConfirmTopupParams{IdempotencyKey: key}, client.ConfirmTopupInput{
							Meta: moneytest.Meta(),
							Data: client.ConfirmTopupInputData{WalletId: set.wallets[int(i)%len(set.wallets)], AmountMinor: 5000,
								Currency: "EUR", Provider: "adyen", SettlementReference: key},
						}, auth)
						latencies[w] = append(latencies[w], time.Since(t0))
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
				b.Fatalf("%d of %d top-ups failed", n, b.N)
			}
			all := slices.Concat(latencies...)
			slices.Sort(all)
			pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "topups/s")
			b.ReportMetric(pct(0.50), "p50_ms")
			b.ReportMetric(pct(0.99), "p99_ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
