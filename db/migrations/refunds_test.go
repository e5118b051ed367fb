package migrations_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/db/migrations"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestRefundsMigrationGrantsTheBackOfficeRefunds writes keys of the release
// before 00012, migrates, and checks that the operator keys that pay (the
// bootstrap key) now hold payments:refund, and no other key does. Down then
// up again works.
func TestRefundsMigrationGrantsTheBackOfficeRefunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 11)
	require.NoError(t, err)

	tn := moneytest.NewTenant(t, pool)
	key := func(role string, scopes ...string) string {
		t.Helper()
		id, hash := ids.New(ids.APIKey), make([]byte, 32)
		_, _ = rand.Read(hash)
		_, err := pool.Exec(ctx, `INSERT INTO api_keys (id, merchant_id, integration_id, name, prefix, secret_hash, role, scopes)
			VALUES ($1, $2, $3, 'k', 'fk_test_x', $4, $5, $6)`, id, tn.MerchantID, tn.IntegrationID, hash, role, scopes)
		require.NoError(t, err)
		return id
	}
	bootstrap := key("operator", "keys:manage", "payments:read", "payments:write", "transactions:read")
	till := key("integration", "payments:read", "payments:write")
	walletApp := key("integration", "qr:mint")
	auditor := key("operator", "transactions:read")

	_, err = provider.Up(ctx)
	require.NoError(t, err)
	scopes := func(id string) []string {
		t.Helper()
		var s []string
		require.NoError(t, pool.QueryRow(ctx, `SELECT scopes FROM api_keys WHERE id = $1`, id).Scan(&s))
		return s
	}
	require.Equal(t, []string{"keys:manage", "payments:read", "payments:write", "transactions:read", "payments:refund"}, scopes(bootstrap))
	require.Equal(t, []string{"payments:read", "payments:write"}, scopes(till))
	require.Equal(t, []string{"qr:mint"}, scopes(walletApp))
	require.Equal(t, []string{"transactions:read"}, scopes(auditor))
	_, err = pool.Exec(ctx, `UPDATE api_keys SET scopes = array_append(scopes, 'payments:refund') WHERE id = $1`, walletApp)
	require.ErrorContains(t, err, "api_keys_refund_consent_check", "the wallet app never refunds")

	_, err = provider.DownTo(ctx, 11)
	require.NoError(t, err)
	require.Equal(t, []string{"keys:manage", "payments:read", "payments:write", "transactions:read"}, scopes(bootstrap))
	_, err = provider.Up(ctx)
	require.NoError(t, err)
}
