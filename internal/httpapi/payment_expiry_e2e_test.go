package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments"
)

func TestCaptureAfterAuthorizationExpiry(t *testing.T) {
	t.Parallel()

	// Each case advances its server's clock, so each owns its server.
	for _, action := range []client.CaptureAction{client.CaptureActionCapture, client.CaptureActionClose} {
		t.Run("ExpiresOnTheSpotAndRefuses_"+string(action), func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t)
			w := e.wallet(5000, grantSpec{300, payments.AuthorizationTTL + time.Hour})
			p := e.authorizeManual(w.ID, 1000) // 300 promo + 700 actual
			e.S.Clock.Advance(payments.AuthorizationTTL + time.Second)

			key := moneytest.NewIdemKey()
			send := func() *client.CapturePaymentResponse {
				res, err := e.C.CapturePaymentWithResponse(e.Ctx, p.Id, &client.CapturePaymentParams{IdempotencyKey: key},
					client.CapturePaymentInput{Meta: moneytest.Meta(), Data: client.CapturePaymentInputData{Action: action}}, e.AsAdmin())
				require.NoError(t, err)
				return res
			}
			res := send()
			got := wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)
			require.Equal(t, "expired", (*got.Details)["status"])
			require.NotEmpty(t, (*got.Details)["authorization_expires_at"])

			// The expiry committed although the request failed.
			after := e.payment(p.Id)
			require.Equal(t, client.PaymentStatusExpired, after.Status)
			require.EqualValues(t, 0, after.CapturedMinor)
			b := e.balance(w.ID).Balance
			require.EqualValues(t, 5000, b.Actual)
			require.EqualValues(t, 300, b.PromoAvailable)
			require.Equal(t, 1, e.count(`SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND type = 'payment_expiry'`, p.Id))
			require.Zero(t, e.count(`SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND type = 'payment_capture'`, p.Id))

			// A retry replays the refusal; a new key sees an expired payment.
			replay := send()
			require.Equal(t, http.StatusConflict, replay.StatusCode())
			require.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))
			again := e.capture(p.Id, client.CapturePaymentInputData{Action: action})
			got = wantError(t, again, again.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)
			require.Equal(t, "expired", (*got.Details)["status"])
			require.Equal(t, after.AuthorizationExpiresAt.UTC().Format(time.RFC3339), (*got.Details)["authorization_expires_at"])
			require.Equal(t, 1, e.count(`SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND type = 'payment_expiry'`, p.Id))
		})
	}

	t.Run("BeforeItsExpiryItCaptures", func(t *testing.T) {
		t.Parallel()
		e := newPayEnv(t)
		w := e.wallet(5000)
		p := e.authorizeManual(w.ID, 1000)
		e.S.Clock.Advance(payments.AuthorizationTTL - time.Minute)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, client.PaymentStatusCaptured, res.JSON200.Data.Status)
	})
}
