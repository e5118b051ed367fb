package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
)

func (e *payEnv) identify(typ client.IdentifyCredentialType, value string, auth ...client.RequestEditorFn) *client.IdentifyCustomerResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.IdentifyCustomerWithResponse(e.Ctx, &client.IdentifyCustomerParams{},
		client.IdentifyCustomerInput{Meta: moneytest.Meta(), Data: client.IdentifyCustomerInputData{
			Credential: client.IdentifyCredential{Type: typ, Value: value},
		}}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *payEnv) lookup(p client.LookupCustomerParams, auth ...client.RequestEditorFn) *client.LookupCustomerResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.LookupCustomerWithResponse(e.Ctx, &p, auth...)
	require.NoError(e.t, err)
	return res
}

func TestIdentifyCustomer(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("ByPhone", func(t *testing.T) {
		w := e.wallet(12000, grantSpec{1500, 24 * time.Hour})
		phone := e.phoneOf(w.ID)
		res := e.identify(client.IdentifyCredentialTypePhone, phone)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		c := res.JSON200.Data
		require.Equal(t, w.CustomerID, c.CustomerId)
		require.Equal(t, "+49"+"*******"+phone[len(phone)-4:], *c.MaskedPhone)
		require.Equal(t, client.CustomerBadgeNew, c.Badge)
		require.Equal(t, w.ID, c.Wallet.Id)
		require.EqualValues(t, 13500, c.Wallet.Balance.SpendableMinor)
		require.Equal(t, []client.PaymentCredentialType{client.PaymentCredentialTypeQr, client.PaymentCredentialTypeOtp}, c.AcceptedPaymentCredentials)
		require.NotContains(t, string(res.Body), phone, "the full phone never comes back")
	})

	t.Run("APhoneNotInE164IsRefusedAsInput", func(t *testing.T) {
		// The number a cashier types: national format, spaces. It is a
		// mistake to name (as enrollment names it), not a customer to look for.
		w := e.wallet(0)
		national := "0" + e.phoneOf(w.ID)[3:]
		for _, phone := range []string{national, "+49 151 1234567"} {
			res := e.identify(client.IdentifyCredentialTypePhone, phone)
			got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
			require.NotNil(t, got.Field)
			require.Equal(t, "/data/credential/value", *got.Field)
			require.Contains(t, got.Message, "E.164")
			require.NotContains(t, got.Message, phone, "messages never echo values")
		}
	})

	t.Run("ByCardFingerprintAndProviderCustomerID", func(t *testing.T) {
		w := e.wallet(0)
		e.exec(`UPDATE customers SET card_fingerprint = 'fp-123', provider_customer_id = 'crm-42' WHERE id = $1`, w.CustomerID)
		res := e.identify(client.IdentifyCredentialTypeCardFingerprint, "fp-123")
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, w.CustomerID, res.JSON200.Data.CustomerId)
		res = e.identify(client.IdentifyCredentialTypeProviderCustomerId, "crm-42")
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, w.CustomerID, res.JSON200.Data.CustomerId)
	})

	t.Run("ByShortCodeAndQRWithoutUsingThem", func(t *testing.T) {
		w := e.wallet(5000)
		m := e.mint(w.ID)
		res := e.identify(client.IdentifyCredentialTypeShortCode, m.ShortCode)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, w.ID, res.JSON200.Data.Wallet.Id)
		res = e.identify(client.IdentifyCredentialTypeQr, m.QrPayload)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.NotContains(t, string(res.Body), m.QrPayload)
		require.NotContains(t, string(res.Body), m.ShortCode)
		pay := e.payQR(m.QrPayload, 100) // still usable
		require.Equal(t, http.StatusOK, pay.StatusCode(), "body: %s", pay.Body)
		res = e.identify(client.IdentifyCredentialTypeQr, m.QrPayload) // used: identifies nobody
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
	})

	t.Run("PendingWalletHasNoPaymentCredentials", func(t *testing.T) {
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: true})
		res := e.identify(client.IdentifyCredentialTypePhone, e.phoneOf(w.ID))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Empty(t, res.JSON200.Data.AcceptedPaymentCredentials)
		require.Equal(t, client.WalletStatusPendingProof, res.JSON200.Data.Wallet.Status)
	})

	t.Run("NobodyOrAnotherMerchantsCustomerIsNotFound", func(t *testing.T) {
		res := e.identify(client.IdentifyCredentialTypePhone, moneytest.NewPhone())
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
		other := moneytest.On(t, e.S, "Other Merchant")
		w := moneytest.Wallet(t, e.S.Pool, other.Tenant, moneytest.WalletOpts{})
		res = e.identify(client.IdentifyCredentialTypePhone, e.phoneOf(w.ID))
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
	})

	t.Run("ShortCodeGuessesAreRateLimitedPerTerminal", func(t *testing.T) {
		term := e.terminal("till-identify")
		for i := range 10 {
			res := e.identify(client.IdentifyCredentialTypeShortCode, "8888"+strconv.Itoa(1000+i), term)
			wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
		}
		res := e.identify(client.IdentifyCredentialTypeQr, "FDQ1.guess", term)
		got := wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
		require.Equal(t, strconv.Itoa(int((*got.Details)["retry_after_seconds"].(float64))), res.HTTPResponse.Header.Get("Retry-After"))
		// Phones are not guesses of a secret: they are not limited.
		w := e.wallet(0)
		res = e.identify(client.IdentifyCredentialTypePhone, e.phoneOf(w.ID), term)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})

	t.Run("NeedsCustomersRead", func(t *testing.T) {
		res := e.identify(client.IdentifyCredentialTypePhone, moneytest.NewPhone(), e.keyWith(client.ScopePaymentsWrite))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})
}

func TestLookupCustomer(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("FoundWithTheLastTenTransactions", func(t *testing.T) {
		w := e.wallet(0)
		for range 11 {
			e.topup(w.ID, "EUR", 100)
		}
		pay := e.payQR(e.mint(w.ID).ShortCode, 250)
		require.Equal(t, http.StatusOK, pay.StatusCode(), "body: %s", pay.Body)
		phone := e.phoneOf(w.ID)
		res := e.lookup(client.LookupCustomerParams{Phone: &phone})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		d := res.JSON200.Data
		require.Equal(t, client.LookupResultFound, d.Result)
		require.Equal(t, w.CustomerID, d.Customer.CustomerId)
		require.Equal(t, client.CustomerBadgeRegular, d.Customer.Badge) // three or more top-ups
		require.EqualValues(t, 850, d.Customer.Wallet.Balance.ActualMinor)
		require.Len(t, d.RecentTransactions, 10)
		require.Equal(t, client.TransactionTypePayment, d.RecentTransactions[0].Type) // newest first: one posting
		require.Equal(t, client.TransactionTypeTopup, d.RecentTransactions[1].Type)
	})

	t.Run("NotFoundIsAResult", func(t *testing.T) {
		phone := moneytest.NewPhone()
		res := e.lookup(client.LookupCustomerParams{Phone: &phone})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, client.LookupResultNotFound, res.JSON200.Data.Result)
		require.Nil(t, res.JSON200.Data.Customer)
		require.Empty(t, res.JSON200.Data.RecentTransactions)
	})

	t.Run("ExactlyOneKey", func(t *testing.T) {
		phone, code := moneytest.NewPhone(), "12345678"
		res := e.lookup(client.LookupCustomerParams{Phone: &phone, ShortCode: &code})
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/query/short_code", *got.Field)
		res = e.lookup(client.LookupCustomerParams{})
		wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
	})

	t.Run("ShortCodeMissesAreRateLimited", func(t *testing.T) {
		term := e.terminal("till-lookup")
		for i := range 10 {
			code := "7777" + strconv.Itoa(1000+i)
			res := e.lookup(client.LookupCustomerParams{ShortCode: &code}, term)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			require.Equal(t, client.LookupResultNotFound, res.JSON200.Data.Result)
		}
		code := "77770000"
		res := e.lookup(client.LookupCustomerParams{ShortCode: &code}, term)
		wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
		require.NotEmpty(t, res.HTTPResponse.Header.Get("Retry-After"))
	})

	t.Run("NeedsCustomersRead", func(t *testing.T) {
		phone := moneytest.NewPhone()
		res := e.lookup(client.LookupCustomerParams{Phone: &phone}, e.keyWith(client.ScopePaymentsRead))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})
}
