package qr_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/wallets"
)

func TestIsShortCode(t *testing.T) {
	t.Parallel()
	require.True(t, qr.IsShortCode("00000000"))
	require.False(t, qr.IsShortCode("1234567"))
	require.False(t, qr.IsShortCode("1234567a"))
	require.False(t, qr.IsShortCode("FDQ1.abc"))
}

func TestTokens(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	tn := moneytest.NewTenant(t, pool)
	codes, err := secrethash.New(config.Sandbox, nil, nil)
	require.NoError(t, err)
	clk := clock.New()
	s := qr.NewService(pool, codes, clk.Now)
	ctx := context.Background()
	every := ratelimit.Rate{Max: 100, Window: time.Minute}
	gate := ratelimit.New(pool, ratelimit.Limits{PerTerminal: every, PerKey: every, PerMerchant: every}, clk.Now).
		Gate(ratelimit.Subject{MerchantID: tn.MerchantID, KeyID: "key_test"})

	t.Run("PeekResolvesWithoutUsingAndUseSpendsOnce", func(t *testing.T) {
		w := moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{})
		m, err := s.Mint(ctx, tn.MerchantID, w.ID)
		require.NoError(t, err)
		for _, v := range []string{m.Payload, m.ShortCode, m.Payload} {
			got, err := s.Peek(ctx, tn.MerchantID, v)
			require.NoError(t, err)
			require.Equal(t, w.ID, got)
		}
		use := func(v string) (string, error) {
			return dbx.InTxValue(ctx, pool, func(ctx context.Context, q *db.Queries) (string, error) {
				return s.Use(ctx, q, v, "pay_01JWREDZS08C5W3VCRQEDKC38Q", gate)
			})
		}
		got, err := use(m.ShortCode)
		require.NoError(t, err)
		require.Equal(t, w.ID, got)
		_, err = use(m.Payload)
		var inv *qr.InvalidError
		require.ErrorAs(t, err, &inv)
		require.Equal(t, qr.ReasonUsed, inv.Reason)
		_, err = s.Peek(ctx, tn.MerchantID, m.ShortCode)
		require.ErrorIs(t, err, qr.ErrCredentialInvalid)
	})

	t.Run("AnotherMerchantsCodeIsUnknown", func(t *testing.T) {
		w := moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{})
		m, err := s.Mint(ctx, tn.MerchantID, w.ID)
		require.NoError(t, err)
		other := moneytest.NewTenant(t, pool)
		_, err = s.Peek(ctx, other.MerchantID, m.ShortCode)
		var inv *qr.InvalidError
		require.ErrorAs(t, err, &inv)
		require.Equal(t, qr.ReasonUnknown, inv.Reason)
	})

	t.Run("MintRefusesUnknownAndPendingWallets", func(t *testing.T) {
		_, err := s.Mint(ctx, tn.MerchantID, "wal_01JWRNGNKDE6EDYKDM9WBETHSM")
		require.ErrorIs(t, err, wallets.ErrNotFound)
		w := moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{Pending: true})
		_, err = s.Mint(ctx, tn.MerchantID, w.ID)
		require.ErrorIs(t, err, wallets.ErrNotVerified)
	})

	t.Run("ALiveShortCodeNamesOneTokenAndARetiredOneReadsExpired", func(t *testing.T) {
		w := moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{})
		m, err := s.Mint(ctx, tn.MerchantID, w.ID)
		require.NoError(t, err)
		clk.Advance(qr.ShortCodeTTL + time.Second) // the last subtest: nothing else runs meanwhile
		_, err = pool.Exec(ctx, `
			INSERT INTO qr_tokens (merchant_id, wallet_id, payload_hash, short_code_hash, qr_expires_at, short_code_expires_at)
			SELECT merchant_id, wallet_id, sha256('x'::bytea), short_code_hash, now() + interval '1 minute', now() + interval '5 minutes'
			FROM qr_tokens WHERE wallet_id = $1`, w.ID)
		require.Error(t, err, "a live token still holds the code: the unique index refuses")
		_, err = pool.Exec(ctx, `UPDATE qr_tokens SET retired_at = $2 WHERE wallet_id = $1`, w.ID, clk.Now())
		require.NoError(t, err)
		_, err = s.Peek(ctx, tn.MerchantID, m.ShortCode)
		var inv *qr.InvalidError
		require.ErrorAs(t, err, &inv)
		require.Equal(t, qr.ReasonExpired, inv.Reason)
	})
}
