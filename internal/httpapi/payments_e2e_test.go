package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/qr"
)

func TestCreatePayment(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("PaysPromoFirstEarliestExpiryThenActual", func(t *testing.T) {
		w := e.wallet(12000, grantSpec{500, 60 * 24 * time.Hour}, grantSpec{1000, 30 * 24 * time.Hour})
		code := e.mint(w.ID)
		res := e.payQR(code.QrPayload, 2450, func(d *client.CreatePaymentInputData) { d.Reference = payRef("basket-1") })
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		p := res.JSON200.Data
		require.Equal(t, client.PaymentStatusCaptured, p.Status)
		require.Equal(t, client.CaptureModeAutomatic, p.CaptureMode)
		require.EqualValues(t, 2450, p.AuthorizedMinor)
		require.EqualValues(t, 2450, p.CapturedMinor)
		require.EqualValues(t, 1500, p.PromoAppliedMinor)
		require.EqualValues(t, 950, p.ActualAppliedMinor)
		require.False(t, p.Partial)
		require.Len(t, p.Allocations, 2)
		require.EqualValues(t, 1000, p.Allocations[0].AmountMinor) // the earliest-expiring grant first
		require.EqualValues(t, 500, p.Allocations[1].AmountMinor)
		require.EqualValues(t, 11050, p.BalanceAfter.ActualMinor)
		require.EqualValues(t, 0, p.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, w.ID, p.WalletId)
		require.Equal(t, w.CustomerID, p.CustomerId)
		require.Equal(t, "basket-1", *p.Reference)
		require.WithinDuration(t, time.Now().Add(24*time.Hour), p.AuthorizationExpiresAt, time.Minute)

		got, err := e.C.GetPaymentWithResponse(e.Ctx, p.Id, &client.GetPaymentParams{}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode(), "body: %s", got.Body)
		require.Equal(t, p, got.JSON200.Data)
	})

	t.Run("ShortCodePaysOnceAndUsesTheQRToo", func(t *testing.T) {
		w := e.wallet(5000)
		code := e.mint(w.ID)
		res := e.payQR(code.ShortCode, 1000)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 4000, res.JSON200.Data.BalanceAfter.ActualMinor)

		res = e.payQR(code.ShortCode, 1000)
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "used", (*got.Details)["reason"])
		res = e.payQR(code.QrPayload, 1000)
		got = wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "used", (*got.Details)["reason"])
		require.EqualValues(t, 4000, e.balance(w.ID).Balance.Actual)
	})

	t.Run("UnknownCredentialIsInvalid", func(t *testing.T) {
		res := e.payQR("FDQ1.bm90LWEtcmVhbC1wYXlsb2Fk", 100)
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "unknown", (*got.Details)["reason"])
		require.Equal(t, "/data/credential/value", *got.Field)
	})

	t.Run("MintingSupersedesTheEarlierToken", func(t *testing.T) {
		w := e.wallet(5000)
		first := e.mint(w.ID)
		second := e.mint(w.ID)
		for _, value := range []string{first.QrPayload, first.ShortCode} {
			res := e.payQR(value, 100)
			got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
			require.Equal(t, "superseded", (*got.Details)["reason"])
		}
		res := e.payQR(second.ShortCode, 100)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})

	t.Run("ExpiredTokenIsInvalid", func(t *testing.T) {
		w := e.wallet(5000)
		code := e.mint(w.ID)
		e.S.Clock.Advance(qr.PayloadTTL + time.Second) // the subtests run in turn
		res := e.payQR(code.QrPayload, 100)
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "expired", (*got.Details)["reason"])
		res = e.payQR(code.ShortCode, 100) // the short code lives 5 minutes
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})

	t.Run("InsufficientFundsGivesTheFiguresAndKeepsTheCredential", func(t *testing.T) {
		w := e.wallet(12000, grantSpec{1500, 24 * time.Hour})
		code := e.mint(w.ID)
		key := moneytest.NewIdemKey()
		res := e.payWithKey(key, eur(20000, qrCredential(code.ShortCode)))
		got := wantError(t, res, res.Body, http.StatusPaymentRequired, client.ErrorCodeInsufficientFunds)
		require.Equal(t, "/data/amount_minor", *got.Field)
		require.Equal(t, map[string]any{
			"amount_minor": 20000.0, "spendable_minor": 13500.0, "shortfall_minor": 6500.0, "actual_minor": 12000.0,
			"promo_available_minor": 1500.0, "promo_locked_minor": 0.0, "currency": "EUR",
		}, *got.Details)

		replay := e.payWithKey(key, eur(20000, qrCredential(code.ShortCode)))
		require.Equal(t, http.StatusPaymentRequired, replay.StatusCode())
		require.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))

		e.topup(w.ID, "EUR", 6500) // recover: top up the shortfall, pay again with a new key
		res = e.pay(eur(20000, qrCredential(code.ShortCode)))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 0, res.JSON200.Data.BalanceAfter.SpendableMinor)
	})

	t.Run("PartialAuthorizationTakesWhatIsSpendable", func(t *testing.T) {
		w := e.wallet(700)
		code := e.mint(w.ID)
		res := e.payQR(code.QrPayload, 1000, func(d *client.CreatePaymentInputData) { d.PartialAuthorization = payRef(true) })
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		p := res.JSON200.Data
		require.True(t, p.Partial)
		require.EqualValues(t, 1000, p.AmountMinor)
		require.EqualValues(t, 700, p.AuthorizedMinor)
		require.EqualValues(t, 0, p.BalanceAfter.ActualMinor)
	})

	t.Run("CurrencyNotSupported", func(t *testing.T) {
		res := e.pay(client.CreatePaymentInputData{AmountMinor: 100, Currency: "XXX", Credential: qrCredential("12345678")})
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported)
		require.Equal(t, "/data/currency", *got.Field)
	})

	t.Run("WalletInAnotherCurrencyIsACredentialMismatch", func(t *testing.T) {
		w := e.wallet(5000)
		code := e.mint(w.ID)
		res := e.pay(client.CreatePaymentInputData{AmountMinor: 100, Currency: "USD", Credential: qrCredential(code.QrPayload)})
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "currency_mismatch", (*got.Details)["reason"])
	})

	t.Run("MalformedCredentialIsValidationFailed", func(t *testing.T) {
		res := e.pay(eur(100, client.PaymentCredential{Type: client.PaymentCredentialTypeQr}))
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/credential", *got.Field)
		phone, code := "+4915100000001", "123456"
		res = e.pay(eur(100, client.PaymentCredential{Type: client.PaymentCredentialTypeOtp, Phone: &phone, Code: &code}))
		wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
	})

	t.Run("PendingWalletIsNotVerified", func(t *testing.T) {
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: true})
		res := e.pay(eur(100, otpStart(e.phoneOf(w.ID))))
		wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodeWalletNotVerified)
	})

	t.Run("RateLimitedAfterTenMissesFromATerminal", func(t *testing.T) {
		term := e.terminal("till-guesser")
		for i := range 10 {
			res := e.pay(eur(100, qrCredential("9999"+strconv.Itoa(1000+i))), term)
			wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		}
		res := e.pay(eur(100, qrCredential("99990000")), term)
		got := wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
		require.True(t, got.Retryable)
		after := (*got.Details)["retry_after_seconds"].(float64)
		require.Positive(t, after)
		require.Equal(t, strconv.Itoa(int(after)), res.HTTPResponse.Header.Get("Retry-After"))
		// Another terminal is not affected.
		res = e.pay(eur(100, qrCredential("99990000")), e.terminal("till-honest"))
		wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
	})

	t.Run("AnotherMerchantsCredentialIsUnknown", func(t *testing.T) {
		other := moneytest.On(t, e.S, "Other Merchant")
		w := moneytest.Wallet(t, e.S.Pool, other.Tenant, moneytest.WalletOpts{})
		res, err := e.C.MintQrWithResponse(e.Ctx, &client.MintQrParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.MintQrInput{Meta: moneytest.Meta(), Data: client.MintQrInputData{WalletId: w.ID}}, other.AsWalletApp(t))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		pay := e.payQR(*res.JSON200.Data.QrPayload, 100)
		got := wantError(t, pay, pay.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "unknown", (*got.Details)["reason"])
	})

	t.Run("NeedsPaymentsWrite", func(t *testing.T) {
		res := e.pay(eur(100, qrCredential("12345678")), e.keyWith(client.ScopePaymentsRead, client.ScopeQrMint))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})
}

func TestPaymentWithOTP(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	start := func(t *testing.T, phone string) string {
		t.Helper()
		res := e.pay(eur(1000, otpStart(phone)))
		got := wantError(t, res, res.Body, http.StatusPaymentRequired, client.ErrorCodeOtpRequired)
		require.False(t, got.Retryable)
		d := *got.Details
		require.Regexp(t, `^otp_[0-9A-Z]{26}$`, d["challenge_id"])
		require.Regexp(t, `^\+49\*+\d{4}$`, d["masked_phone"])
		expires, err := time.Parse(time.RFC3339, d["expires_at"].(string))
		require.NoError(t, err)
		require.WithinDuration(t, e.S.Clock.Now().Add(5*time.Minute), expires, time.Minute)
		return d["challenge_id"].(string)
	}

	t.Run("SendsACodeThenPaysWithIt", func(t *testing.T) {
		w := e.wallet(5000)
		id := start(t, e.phoneOf(w.ID))
		code := e.otpCode(id)

		res := e.pay(eur(1000, otpFinish(id, code)))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.EqualValues(t, 4000, res.JSON200.Data.BalanceAfter.ActualMinor)

		res = e.pay(eur(1000, otpFinish(id, code)))
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "used", (*got.Details)["reason"])
	})

	t.Run("OneCodePerMinutePerCustomer", func(t *testing.T) {
		w := e.wallet(5000)
		start(t, e.phoneOf(w.ID))
		res := e.pay(eur(1000, otpStart(e.phoneOf(w.ID))))
		got := wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
		require.NotEmpty(t, res.HTTPResponse.Header.Get("Retry-After"))
		require.LessOrEqual(t, (*got.Details)["retry_after_seconds"].(float64), 60.0)
	})

	t.Run("WrongCodesCountAndFiveKillTheChallenge", func(t *testing.T) {
		w := e.wallet(5000)
		id := start(t, e.phoneOf(w.ID))
		code := e.otpCode(id)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		term := e.terminal("till-otp")
		for remaining := 4; remaining >= 1; remaining-- {
			res := e.pay(eur(1000, otpFinish(id, wrong)), term)
			got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeOtpInvalid)
			require.EqualValues(t, remaining, (*got.Details)["attempts_remaining"])
		}
		res := e.pay(eur(1000, otpFinish(id, wrong)), term)
		got := wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeOtpAttemptsExhausted)
		require.EqualValues(t, 0, (*got.Details)["attempts_remaining"])
		res = e.pay(eur(1000, otpFinish(id, code)), term) // even the right code now
		wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeOtpAttemptsExhausted)
		require.EqualValues(t, 5000, e.balance(w.ID).Balance.Actual)
	})

	t.Run("UnknownAndExpiredChallenges", func(t *testing.T) {
		res := e.pay(eur(1000, otpFinish("otp_01JWR6EAXJB61MFFWEFSMRV34Y", "123456")))
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "challenge_unknown", (*got.Details)["reason"])

		w := e.wallet(5000)
		id := start(t, e.phoneOf(w.ID))
		e.S.Clock.Advance(payments.OTPTTL + time.Second) // the subtests run in turn
		res = e.pay(eur(1000, otpFinish(id, e.otpCode(id))))
		got = wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "challenge_expired", (*got.Details)["reason"])
	})

	t.Run("UnknownPhoneIsAnInvalidCredential", func(t *testing.T) {
		res := e.pay(eur(1000, otpStart(moneytest.NewPhone())))
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "unknown", (*got.Details)["reason"])
	})
}

func TestGetPayment(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	w := e.wallet(5000)
	res := e.payQR(e.mint(w.ID).QrPayload, 100)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	id := res.JSON200.Data.Id

	t.Run("UnknownIsNotFound", func(t *testing.T) {
		got, err := e.C.GetPaymentWithResponse(e.Ctx, "pay_01JWREDZS08C5W3VCRQEDKC38Q", &client.GetPaymentParams{}, e.AsAdmin())
		require.NoError(t, err)
		wantError(t, got, got.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
	t.Run("AnotherMerchantsIsNotFound", func(t *testing.T) {
		other := moneytest.On(t, e.S, "Other Merchant")
		got, err := e.C.GetPaymentWithResponse(e.Ctx, id, &client.GetPaymentParams{}, other.AsAdmin())
		require.NoError(t, err)
		wantError(t, got, got.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
	t.Run("NeedsPaymentsRead", func(t *testing.T) {
		got, err := e.C.GetPaymentWithResponse(e.Ctx, id, &client.GetPaymentParams{}, e.keyWith(client.ScopePaymentsWrite))
		require.NoError(t, err)
		wantError(t, got, got.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		got, err = e.C.GetPaymentWithResponse(e.Ctx, id, &client.GetPaymentParams{}, e.keyWith(client.ScopePaymentsRead))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode())
	})
}
