package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments"
)

func TestCreditCeilingCountsHeldMoney(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	const ceiling = money.MaxAmountMinor

	t.Run("ATopUpCannotTakeTheRoomOfAHold", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.authorizeManual(w.ID, 600) // actual 400, held 600
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: ceiling - 400})
		got := moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid, res.StatusCode(), res.Body)
		require.Equal(t, "/data/amount_minor", *got.Field)

		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: ceiling - 1000}) // exactly to the ceiling, holds counted
		res = e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1})
		moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid, res.StatusCode(), res.Body)

		closed := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, closed.StatusCode(), "body: %s", closed.Body)
		require.EqualValues(t, ceiling, closed.JSON200.Data.BalanceAfter.ActualMinor)
	})

	t.Run("AnExpiryAtTheCeilingReleases", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		w := e.wallet(1000)
		p := e.authorizeManual(w.ID, 1000)
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: ceiling - 1000})
		e.S.Clock.Advance(payments.AuthorizationTTL + time.Second)
		_, err := e.S.App.Server.Payments.ExpireDue(e.Ctx)
		require.NoError(t, err)
		require.Equal(t, client.PaymentStatusExpired, e.payment(p.Id).Status)
		require.EqualValues(t, ceiling, e.balance(w.ID).Balance.Actual)
	})

	t.Run("CaptureFreesTheRoom", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.authorizeManual(w.ID, 1000)
		res := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(700))})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: ceiling - 300}) // 300 came back; nothing is held
	})
}
