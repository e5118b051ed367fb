package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
)

func TestPartialAuthorizationOfAFixedAmountSession(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	partial := func(d *client.CreatePaymentInputData) { d.PartialAuthorization = payRef(true) }

	t.Run("IsRefusedAndChangesNothing", func(t *testing.T) {
		w := e.wallet(600)
		s := e.session(payRef(int64(1000)))
		code := e.mint(w.ID)
		res := e.payQR(code.ShortCode, 1000, partial, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/partial_authorization", *got.Field)

		sess := e.getSession(s.Id).JSON200.Data
		require.Equal(t, client.CheckoutSessionStatusOpen, sess.Status)
		require.Nil(t, sess.PaymentId)
		require.EqualValues(t, 600, e.balance(w.ID).Balance.Actual)
		require.Zero(t, e.count(`SELECT count(*) FROM payments WHERE wallet_id = $1`, w.ID))

		// The customer tops up; the same code then pays the whole amount.
		e.topup(w.ID, "EUR", 400)
		res = e.payQR(code.ShortCode, 1000, partial, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.False(t, res.JSON200.Data.Partial)
		sess = e.getSession(s.Id).JSON200.Data
		require.Equal(t, client.CheckoutSessionStatusCompleted, sess.Status)
		require.EqualValues(t, 1000, *sess.AmountMinor)
	})

	t.Run("AnOpenAmountSessionTakesWhatIsSpendable", func(t *testing.T) {
		w := e.wallet(600)
		s := e.session(nil)
		res := e.payQR(e.mint(w.ID).ShortCode, 1000, partial, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.True(t, res.JSON200.Data.Partial)
		require.EqualValues(t, 600, res.JSON200.Data.AuthorizedMinor)
		require.Equal(t, client.CheckoutSessionStatusCompleted, e.getSession(s.Id).JSON200.Data.Status)
	})
}
