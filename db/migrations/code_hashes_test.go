package migrations_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/db/migrations"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestCodeHashesMigrationEndsTheCodesInFlight writes the rows of the old,
// salted scheme just before 00010, migrates, and checks that none of them
// can still be tried: they hold hashes the keyed scheme cannot check, so
// they expire (and answer expired, not wrong code) while QR payloads, whose
// hashing did not change, keep their lifetime. Down then up again works.
func TestCodeHashesMigrationEndsTheCodesInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 9)
	require.NoError(t, err)

	tn := moneytest.NewTenant(t, pool)
	w := moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{Pending: true})
	hash := bytes.Repeat([]byte{9}, 32)
	verificationID, challengeID := ids.New(ids.Verification), ids.New(ids.OTPChallenge)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO verifications (id, merchant_id, customer_id, wallet_id, phone, salt, code_hash, link_token_hash, expires_at, last_sent_at)
		SELECT $1, $2, c.id, $3, c.phone, $4, $5, $5, now() + interval '15 minutes', now() FROM customers c WHERE c.id = $6`,
		verificationID, tn.MerchantID, w.ID, bytes.Repeat([]byte{1}, 16), hash, w.CustomerID)
	exec(`INSERT INTO otp_challenges (id, merchant_id, customer_id, wallet_id, code_hash, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + interval '5 minutes')`, challengeID, tn.MerchantID, w.CustomerID, w.ID, hash)
	exec(`INSERT INTO qr_tokens (merchant_id, wallet_id, payload_hash, short_code_hash, qr_expires_at, short_code_expires_at)
		VALUES ($1, $2, $3, $3, now() + interval '1 hour', now() + interval '1 hour')`, tn.MerchantID, w.ID, hash)

	_, err = provider.Up(ctx)
	require.NoError(t, err)

	var verificationEnds, challengeEnds, shortCodeEnds, payloadEnds, now time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT expires_at, now() FROM verifications WHERE id = $1`, verificationID).Scan(&verificationEnds, &now))
	require.NoError(t, pool.QueryRow(ctx, `SELECT expires_at FROM otp_challenges WHERE id = $1`, challengeID).Scan(&challengeEnds))
	require.NoError(t, pool.QueryRow(ctx, `SELECT short_code_expires_at, qr_expires_at FROM qr_tokens WHERE wallet_id = $1`, w.ID).
		Scan(&shortCodeEnds, &payloadEnds))
	require.False(t, verificationEnds.After(now), "a pending enrollment code expires")
	require.False(t, challengeEnds.After(now), "an open OTP challenge expires")
	require.False(t, shortCodeEnds.After(now), "a live short code expires")
	require.True(t, payloadEnds.After(now.Add(30*time.Minute)), "the QR payload keeps its lifetime")

	var salts int
	require.NoError(t, pool.QueryRow(ctx,
		`SELECT count(*) FROM information_schema.columns WHERE table_name = 'verifications' AND column_name = 'salt'`).Scan(&salts))
	require.Zero(t, salts, "no salt is stored any more")
}
