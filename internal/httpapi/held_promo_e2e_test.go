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

func TestHeldPromoReportsTheTruth(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("AGrantExpiringWhileHeldExpiresWhenReleased", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		w := e.wallet(0, grantSpec{500, time.Hour})
		g := e.grant(w.CustomerID, e.grantOf(w.ID))
		p := e.authorizeManual(w.ID, 500) // the whole grant is held
		require.Equal(t, client.GrantStateConsumed, e.grant(w.CustomerID, g.Id).State)
		e.S.Clock.Advance(2 * time.Hour) // past the grant's expiry, within the authorization's
		expiredBefore := e.accountTotal("merchant:" + e.Tenant.MerchantID + ":promo_expired")

		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 0, res.JSON200.Data.BalanceAfter.PromoAvailableMinor)

		after := e.grant(w.CustomerID, g.Id)
		require.Equal(t, client.GrantStateExpired, after.State)
		last := after.History[len(after.History)-1]
		require.Equal(t, client.GrantStateConsumed, *last.FromState)
		require.Equal(t, client.GrantStateExpired, last.ToState)
		require.Equal(t, "expired", last.Reason)
		require.NotNil(t, last.TransactionId)
		require.EqualValues(t, 500, e.accountTotal("merchant:"+e.Tenant.MerchantID+":promo_expired")-expiredBefore)
	})

	t.Run("AGrantExpiringWhileHeldExpiresWhenTheAuthorizationExpires", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		w := e.wallet(0, grantSpec{500, time.Hour})
		gID := e.grantOf(w.ID)
		p := e.authorizeManual(w.ID, 500)
		e.S.Clock.Advance(payments.AuthorizationTTL + time.Second) // the grant expired first
		_, err := e.S.App.Server.Payments.ExpireDue(e.Ctx)
		require.NoError(t, err)
		require.Equal(t, client.PaymentStatusExpired, e.payment(p.Id).Status)
		require.Equal(t, client.GrantStateExpired, e.grant(w.CustomerID, gID).State)
	})

	t.Run("PromoOfAGrantClawedBackWhileHeldGoesToTheClawbackAccount", func(t *testing.T) {
		w := e.wallet(0, grantSpec{1000, 24 * time.Hour})
		gID := e.grantOf(w.ID)
		p := e.authorizeManual(w.ID, 400)
		clawback := "merchant:" + e.Tenant.MerchantID + ":promo_clawback"
		expired := "merchant:" + e.Tenant.MerchantID + ":promo_expired"
		clawedBefore, expiredBefore := e.accountTotal(clawback), e.accountTotal(expired)

		res, err := e.C.ClawbackGrantWithResponse(e.Ctx, gID, &client.ClawbackGrantParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.ClawbackGrantInput{Meta: moneytest.Meta(), Data: client.ClawbackGrantInputData{Reason: client.ClawbackReasonFraud}}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		closed := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, closed.StatusCode(), "body: %s", closed.Body)

		require.EqualValues(t, 1000, e.accountTotal(clawback)-clawedBefore, "the 600 clawed back and the 400 held")
		require.EqualValues(t, 0, e.accountTotal(expired)-expiredBefore)
		g := e.grant(w.CustomerID, gID)
		require.Equal(t, client.GrantStateClawedBack, g.State)
		last := g.History[len(g.History)-1]
		require.Equal(t, "payment_closed", last.Reason, "the held promo's lapse is in the history")
	})
}
