package topup_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// statementLog records the statements the server sends while on.
type statementLog struct {
	mu   sync.Mutex
	on   bool
	sqls []string
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(d.SQL), "-- name: "), " ")
		l.sqls = append(l.sqls, name)
	}
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Every round trip inside the wallet's lock is latency for every top-up
// queued behind it: this test keeps the count of a top-up with a bonus
// from creeping up unnoticed.
func TestTopupStatementBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	require.NoError(t, err)
	log := &statementLog{}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, err := app.New(ctx, config.Defaults(), pool, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	require.NoError(t, err)
	require.NoError(t, a.Prepare(ctx))
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithResponses(srv.URL)
	require.NoError(t, err)
	boot, err := a.Server.Auth.Bootstrap(ctx, "Merchant", "POS")
	require.NoError(t, err)
	auth := moneytest.Key(boot.Key.Secret)
	_, err = c.SetReloadBonusConfigWithResponse(ctx, &client.SetReloadBonusConfigParams{IdempotencyKey: "tiers"},
		client.SetReloadBonusConfigRequest{Meta: moneytest.Meta(), Data: tiers()}, auth)
	require.NoError(t, err)
	w := moneytest.Wallet(t, pool, moneytest.Tenant{MerchantID: boot.Merchant.ID, IntegrationID: boot.Integration.ID}, moneytest.WalletOpts{})
	topup := func(key string) *client.ConfirmTopupResult {
		res, err := c.ConfirmTopupWithResponse(ctx, &client.ConfirmTopupParams{IdempotencyKey: key}, client.ConfirmTopupRequest{Meta: moneytest.Meta(),
			Data: client.ConfirmTopupRequestData{WalletId: w.ID, AmountMinor: 5000, Currency: "EUR", Provider: "adyen", SettlementReference: key}}, auth)
		require.NoError(t, err)
		return res
	}
	topup("warm-up") // the key's last_used_at is written once

	log.on = true
	res := topup("measured")
	log.on = false
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.NotNil(t, res.JSON200.Data.BonusGrant)

	// The whole request, in one transaction: the credential, the key's
	// claim, then the top-up's own work in a savepoint (never released: the
	// commit does it), the wallet's lock held from WalletGetForUpdate to the
	// commit.
	require.Equal(t, []string{
		"begin", "ApiKeyGetForAuthBySecretHash", "IdempotencyKeyClaim",
		"SAVEPOINT", "ReloadBonusConfigCurrent", "WalletGetForUpdate", "LedgerPost", "GrantInsert", "LedgerPost",
		"IdempotencyKeyInsert", "commit",
	}, log.sqls)
}
