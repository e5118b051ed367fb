package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// TestPaymentsAreScopedToTheirIntegration performs the attack of issue 8
// (section 6): a second integration of the same merchant reads, captures and
// closes a payment it did not make. Each answers not_found, exactly as an
// unknown id, and the payment is left untouched for its own integration.
func TestPaymentsAreScopedToTheirIntegration(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	_, otherKey := e.OtherIntegration(t)
	other := moneytest.Key(otherKey)

	w := e.wallet(5000)
	manual := client.CaptureModeManual
	res := e.payQR(e.mint(w.ID).QrPayload, 1200, func(d *client.CreatePaymentInputData) { d.Capture = &manual })
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	paymentID := res.JSON200.Data.Id

	unknown, err := e.C.GetPaymentWithResponse(e.Ctx, ids.New(ids.Payment), &client.GetPaymentParams{}, e.AsAdmin())
	require.NoError(t, err)
	missing := moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, unknown.StatusCode(), unknown.Body)

	t.Run("GetAnswersNotFound", func(t *testing.T) {
		got, err := e.C.GetPaymentWithResponse(e.Ctx, paymentID, &client.GetPaymentParams{}, other)
		require.NoError(t, err)
		theirs := moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, got.StatusCode(), got.Body)
		require.Equal(t, missing.Message, theirs.Message, "never leaks existence")
	})
	t.Run("CaptureAnswersNotFound", func(t *testing.T) {
		got := e.capture(paymentID, client.CapturePaymentInputData{Action: client.CaptureActionCapture}, other)
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, got.StatusCode(), got.Body)
	})
	t.Run("CloseAnswersNotFound", func(t *testing.T) {
		got := e.capture(paymentID, client.CapturePaymentInputData{Action: client.CaptureActionClose}, other)
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, got.StatusCode(), got.Body)
	})
	t.Run("TheOwnerStillCaptures", func(t *testing.T) {
		got, err := e.C.GetPaymentWithResponse(e.Ctx, paymentID, &client.GetPaymentParams{}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		require.Equal(t, client.PaymentStatusAuthorized, got.JSON200.Data.Status, "the other integration changed nothing")
		captured := e.capture(paymentID, client.CapturePaymentInputData{Action: client.CaptureActionCapture})
		require.Equal(t, http.StatusOK, captured.StatusCode(), "body: %s", captured.Body)
		require.Equal(t, client.PaymentStatusCaptured, captured.JSON200.Data.Status)
	})
}
