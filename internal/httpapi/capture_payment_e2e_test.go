package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments"
)

func TestCapturePayment(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	// authorize pays manually from a wallet of 12000 actual and two grants
	// (1000 expiring first, then 500): 2450 = 1500 promo + 950 actual.
	// A subtest that advances the clock passes its own server.
	authorize := func(t *testing.T, e *payEnv, grants ...grantSpec) (walletID string, p client.Payment) {
		t.Helper()
		if grants == nil {
			grants = []grantSpec{{500, 60 * 24 * time.Hour}, {1000, 30 * 24 * time.Hour}}
		}
		w := e.wallet(12000, grants...)
		manual := client.CaptureModeManual
		res := e.payQR(e.mint(w.ID).QrPayload, 2450, func(d *client.CreatePaymentInputData) { d.Capture = &manual })
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, client.PaymentStatusAuthorized, res.JSON200.Data.Status)
		require.EqualValues(t, 0, res.JSON200.Data.CapturedMinor)
		return w.ID, res.JSON200.Data
	}
	grantStates := func(t *testing.T, walletID string) map[int64]string {
		t.Helper()
		rows, err := e.S.Pool.Query(context.Background(), `SELECT original_minor, state FROM grants WHERE wallet_id = $1`, walletID)
		require.NoError(t, err)
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var amount int64
			var state string
			require.NoError(t, rows.Scan(&amount, &state))
			out[amount] = state
		}
		return out
	}

	t.Run("CapturesPartAndGivesActualBackFirst", func(t *testing.T) {
		walletID, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(2000))})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		got := res.JSON200.Data
		require.Equal(t, client.PaymentStatusCaptured, got.Status)
		require.EqualValues(t, 2000, got.CapturedMinor)
		require.EqualValues(t, 2450, got.AuthorizedMinor)
		require.EqualValues(t, 11500, got.BalanceAfter.ActualMinor) // 450 of actual came back
		require.EqualValues(t, 0, got.BalanceAfter.PromoAvailableMinor)
		require.EqualValues(t, 11500, e.balance(walletID).Balance.Actual)
	})

	t.Run("GivesPromoBackToItsGrantsLastAllocatedFirst", func(t *testing.T) {
		walletID, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(500))})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		got := res.JSON200.Data
		require.EqualValues(t, 500, got.CapturedMinor)
		require.EqualValues(t, 12000, got.BalanceAfter.ActualMinor) // all 950 of actual back
		require.EqualValues(t, 1000, got.BalanceAfter.PromoAvailableMinor)
		// The 500 grant (taken last) got all of its promo back, the 1000 one half.
		var remaining500, remaining1000 int64
		require.NoError(t, e.S.Pool.QueryRow(context.Background(), `
			SELECT sum(remaining_minor) FILTER (WHERE original_minor = 500), sum(remaining_minor) FILTER (WHERE original_minor = 1000)
			FROM grants WHERE wallet_id = $1`, walletID).Scan(&remaining500, &remaining1000))
		require.EqualValues(t, 500, remaining500)
		require.EqualValues(t, 500, remaining1000)
		require.Equal(t, map[int64]string{1000: "available", 500: "available"}, grantStates(t, walletID))
	})

	t.Run("CapturesAllByDefault", func(t *testing.T) {
		_, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 2450, res.JSON200.Data.CapturedMinor)
		require.EqualValues(t, 11050, res.JSON200.Data.BalanceAfter.ActualMinor)
	})

	t.Run("CloseGivesEverythingBackAndRevivesConsumedGrants", func(t *testing.T) {
		walletID, p := authorize(t, e)
		require.Equal(t, map[int64]string{1000: "consumed", 500: "consumed"}, grantStates(t, walletID))
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		got := res.JSON200.Data
		require.Equal(t, client.PaymentStatusClosed, got.Status)
		require.EqualValues(t, 0, got.CapturedMinor)
		require.EqualValues(t, 12000, got.BalanceAfter.ActualMinor)
		require.EqualValues(t, 1500, got.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64]string{1000: "available", 500: "available"}, grantStates(t, walletID))
	})

	t.Run("PromoOfAGrantExpiredMeanwhileLapses", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		_, p := authorize(t, e, grantSpec{500, 60 * 24 * time.Hour}, grantSpec{1000, time.Hour})
		e.S.Clock.Advance(2 * time.Hour) // past the 1000's expiry, within the authorization's
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 12000, res.JSON200.Data.BalanceAfter.ActualMinor)
		require.EqualValues(t, 500, res.JSON200.Data.BalanceAfter.PromoAvailableMinor) // the 1000 lapsed
		var lapsed int64
		require.NoError(t, e.S.Pool.QueryRow(context.Background(),
			`SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE account = $1`,
			"merchant:"+e.Tenant.MerchantID+":promo_expired").Scan(&lapsed))
		require.EqualValues(t, 1000, lapsed)
	})

	t.Run("OnlyAnAuthorizedPaymentCanBeCapturedOnce", func(t *testing.T) {
		_, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		res = e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		got := wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)
		require.Equal(t, "captured", (*got.Details)["status"])
	})

	t.Run("CaptureExceedsAuthorized", func(t *testing.T) {
		_, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(2451))})
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCaptureExceedsAuthorized)
		require.EqualValues(t, 2450, (*got.Details)["authorized_minor"])
		require.Equal(t, "/data/amount_minor", *got.Field)
	})

	t.Run("CloseTakesNoAmount", func(t *testing.T) {
		_, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose, AmountMinor: payRef(int64(1))})
		wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
	})

	t.Run("UnknownAndForeignPaymentsAreNotFound", func(t *testing.T) {
		res := e.capture("pay_01JWREDZS08C5W3VCRQEDKC38Q", client.CapturePaymentInputData{Action: client.CaptureActionClose})
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		_, p := authorize(t, e)
		other := moneytest.On(t, e.S, "Other Merchant")
		res = e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose}, other.AsAdmin())
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})

	t.Run("NeedsPaymentsWrite", func(t *testing.T) {
		_, p := authorize(t, e)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose}, e.keyWith(client.ScopePaymentsRead))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})

	t.Run("TheSweeperExpiresOverdueAuthorizations", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		walletID, p := authorize(t, e)
		e.S.Clock.Advance(payments.AuthorizationTTL + time.Second)
		e.S.StartJobs(t) // the sweeper runs at start, then every minute
		require.Eventually(t, func() bool {
			got, err := e.C.GetPaymentWithResponse(e.Ctx, p.Id, &client.GetPaymentParams{}, e.AsAdmin())
			return err == nil && got.JSON200 != nil && got.JSON200.Data.Status == client.PaymentStatusExpired
		}, 10*time.Second, 50*time.Millisecond)
		b := e.balance(walletID).Balance
		require.EqualValues(t, 12000, b.Actual)
		require.EqualValues(t, 1500, b.PromoAvailable)
		var expiries int
		require.NoError(t, e.S.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND type = 'payment_expiry'`, p.Id).Scan(&expiries))
		require.Equal(t, 1, expiries)
	})
}

func TestMintQr(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("MintsAPayloadAndAShortCode", func(t *testing.T) {
		w := e.wallet(0)
		res := e.mintAs(w.ID, e.AsWalletApp(t))
		m := mintedOf(t, res)
		require.Regexp(t, `^FDQ1\.[A-Za-z0-9_-]{43}$`, m.QrPayload)
		require.Regexp(t, `^\d{8}$`, m.ShortCode)
		require.WithinDuration(t, time.Now().Add(60*time.Second), res.JSON200.Data.QrExpiresAt, 5*time.Second)
		require.WithinDuration(t, time.Now().Add(5*time.Minute), res.JSON200.Data.ShortCodeExpiresAt, 5*time.Second)
		var stored int
		require.NoError(t, e.S.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM qr_tokens WHERE payload_hash = sha256($1::bytea)`, []byte(m.QrPayload)).Scan(&stored))
		require.Equal(t, 1, stored, "only the hash of the payload is stored")
	})

	t.Run("UnknownOrForeignWalletIsNotFound", func(t *testing.T) {
		res := e.mintAs("wal_01JWRNGNKDE6EDYKDM9WBETHSM", e.AsWalletApp(t))
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		other := moneytest.On(t, e.S, "Other Merchant")
		w := moneytest.Wallet(t, e.S.Pool, other.Tenant, moneytest.WalletOpts{})
		res = e.mintAs(w.ID, e.AsWalletApp(t))
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})

	t.Run("PendingWalletIsNotVerified", func(t *testing.T) {
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: true})
		res := e.mintAs(w.ID, e.AsWalletApp(t))
		wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodeWalletNotVerified)
	})

	t.Run("NeedsQrMint", func(t *testing.T) {
		w := e.wallet(0)
		res := e.mintAs(w.ID, e.keyWith(client.ScopePaymentsWrite))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		res = e.mintAs(w.ID, e.keyWith(client.ScopeQrMint))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})
}
