package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/moneytest"
)

func (e *payEnv) openSession(data client.CreateCheckoutSessionInputData, auth ...client.RequestEditorFn) *client.CreateCheckoutSessionResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.CreateCheckoutSessionWithResponse(e.Ctx, &client.CreateCheckoutSessionParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateCheckoutSessionInput{Meta: moneytest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *payEnv) session(amount *int64) client.CheckoutSession {
	e.t.Helper()
	res := e.openSession(client.CreateCheckoutSessionInputData{Currency: "EUR", AmountMinor: amount, Reference: payRef("basket-42")})
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

func (e *payEnv) getSession(id string, auth ...client.RequestEditorFn) *client.GetCheckoutSessionResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.GetCheckoutSessionWithResponse(e.Ctx, id, &client.GetCheckoutSessionParams{}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *payEnv) identifySession(id string, typ client.IdentifyCredentialType, value string, auth ...client.RequestEditorFn) *client.IdentifyCheckoutSessionResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.IdentifyCheckoutSessionWithResponse(e.Ctx, id, &client.IdentifyCheckoutSessionParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.IdentifyCheckoutSessionInput{Meta: moneytest.Meta(), Data: client.IdentifyCheckoutSessionInputData{
			Credential: client.IdentifyCredential{Type: typ, Value: value},
		}}, auth...)
	require.NoError(e.t, err)
	return res
}

func TestCheckoutSessions(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("OpensForThirtyMinutes", func(t *testing.T) {
		s := e.session(payRef(int64(2450)))
		require.Regexp(t, `^cs_[0-9A-Z]{26}$`, s.Id)
		require.Equal(t, client.CheckoutSessionStatusOpen, s.Status)
		require.EqualValues(t, 2450, *s.AmountMinor)
		require.Equal(t, "basket-42", *s.Reference)
		require.Nil(t, s.PaymentId)
		require.Nil(t, s.Customer)
		require.WithinDuration(t, time.Now().Add(30*time.Minute), s.ExpiresAt, time.Minute)
		got := e.getSession(s.Id)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		require.Equal(t, s, got.JSON200.Data)
	})

	t.Run("CurrencyNotSupported", func(t *testing.T) {
		res := e.openSession(client.CreateCheckoutSessionInputData{Currency: "XXX"})
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported)
		require.Equal(t, "/data/currency", *got.Field)
	})

	t.Run("IdentifyAttachesThePaymentCompletes", func(t *testing.T) {
		w := e.wallet(5000)
		s := e.session(payRef(int64(2450)))
		res := e.identifySession(s.Id, client.IdentifyCredentialTypePhone, e.phoneOf(w.ID))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, w.CustomerID, res.JSON200.Data.Customer.CustomerId)
		got := e.getSession(s.Id)
		require.Equal(t, w.CustomerID, got.JSON200.Data.Customer.CustomerId)

		m := e.mint(w.ID)
		wrong := e.payQR(m.ShortCode, 2000, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		gotErr := wantError(t, wrong, wrong.Body, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid)
		require.Equal(t, "/data/amount_minor", *gotErr.Field)

		pay := e.payQR(m.ShortCode, 2450, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		require.Equal(t, http.StatusOK, pay.StatusCode(), "body: %s", pay.Body)
		require.Equal(t, s.Id, *pay.JSON200.Data.CheckoutSessionId)
		got = e.getSession(s.Id)
		require.Equal(t, client.CheckoutSessionStatusCompleted, got.JSON200.Data.Status)
		require.Equal(t, pay.JSON200.Data.Id, *got.JSON200.Data.PaymentId)

		again := e.payQR(e.mint(w.ID).ShortCode, 2450, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		gotErr = wantError(t, again, again.Body, http.StatusConflict, client.ErrorCodeCheckoutSessionClosed)
		require.Equal(t, "completed", (*gotErr.Details)["status"])
		idn := e.identifySession(s.Id, client.IdentifyCredentialTypePhone, e.phoneOf(w.ID))
		wantError(t, idn, idn.Body, http.StatusConflict, client.ErrorCodeCheckoutSessionClosed)
	})

	t.Run("AnExpiredSessionIsClosed", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		w := e.wallet(5000)
		s := e.session(nil)
		e.S.Clock.Advance(checkout.TTL + time.Second)
		require.Equal(t, client.CheckoutSessionStatusExpired, e.getSession(s.Id).JSON200.Data.Status)
		pay := e.payQR(e.mint(w.ID).QrPayload, 100, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &s.Id })
		got := wantError(t, pay, pay.Body, http.StatusConflict, client.ErrorCodeCheckoutSessionClosed)
		require.Equal(t, "expired", (*got.Details)["status"])
		require.EqualValues(t, 5000, e.balance(w.ID).Balance.Actual)
	})

	t.Run("IdentifyFindingNobodyOrGuessing", func(t *testing.T) {
		s := e.session(nil)
		res := e.identifySession(s.Id, client.IdentifyCredentialTypePhone, moneytest.NewPhone())
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
		term := e.terminal("till-session")
		for range 10 {
			res = e.identifySession(s.Id, client.IdentifyCredentialTypeQr, "FDQ1.guess", term)
			wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
		}
		res = e.identifySession(s.Id, client.IdentifyCredentialTypeQr, "FDQ1.guess", term)
		wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
	})

	t.Run("UnknownAndForeignSessionsAreNotFound", func(t *testing.T) {
		s := e.session(nil)
		other := moneytest.On(t, e.S, "Other Merchant")
		for _, res := range []*client.GetCheckoutSessionResponse{
			e.getSession("cs_01JWR2F0XEKRHA37KVHZZZ9JQD"), e.getSession(s.Id, other.AsAdmin()),
		} {
			wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		}
		idn := e.identifySession(s.Id, client.IdentifyCredentialTypePhone, moneytest.NewPhone(), other.AsAdmin())
		wantError(t, idn, idn.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		w := e.wallet(5000)
		unknown := "cs_01JWR2F0XEKRHA37KVHZZZ9JQD"
		pay := e.payQR(e.mint(w.ID).QrPayload, 100, func(d *client.CreatePaymentInputData) { d.CheckoutSessionId = &unknown })
		wantError(t, pay, pay.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})

	t.Run("Scopes", func(t *testing.T) {
		res := e.openSession(client.CreateCheckoutSessionInputData{Currency: "EUR"}, e.keyWith(client.ScopeCustomersRead))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		s := e.session(nil)
		get := e.getSession(s.Id, e.keyWith(client.ScopePaymentsWrite))
		wantError(t, get, get.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		idn := e.identifySession(s.Id, client.IdentifyCredentialTypePhone, moneytest.NewPhone(), e.keyWith(client.ScopePaymentsWrite))
		wantError(t, idn, idn.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})
}
