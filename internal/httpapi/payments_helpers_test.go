package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/wallets"
)

// payEnv is a running server with a bootstrapped merchant, for the
// payment, identify, checkout and QR operations.
type payEnv struct {
	*moneytest.Env
	t *testing.T
}

// newPayEnv starts the server; when the test ends, the ledger's
// invariants (moneytest.CheckLedger) must hold over its database.
func newPayEnv(t *testing.T) *payEnv {
	t.Helper()
	e := &payEnv{Env: moneytest.Start(t), t: t}
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	return e
}

// wallet makes a customer with a wallet holding actual money (topped up
// through the API) and available promo grants (amount, lifetime).
func (e *payEnv) wallet(actual int64, promo ...grantSpec) wallets.Wallet {
	e.t.Helper()
	w := moneytest.Wallet(e.t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
	if actual > 0 {
		e.topup(w.ID, "EUR", actual)
	}
	for _, g := range promo {
		moneytest.Grant(e.t, e.S.Pool, e.Tenant, w.ID, g.amount, g.ttl, false)
	}
	return w
}

type grantSpec struct {
	amount int64
	ttl    time.Duration
}

func (e *payEnv) topup(walletID, currency string, amount int64) {
	e.t.Helper()
	res, err := e.C.ConfirmTopupWithResponse(e.Ctx, &client.ConfirmTopupParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.ConfirmTopupInput{Meta: moneytest.Meta(), Data: client.ConfirmTopupInputData{
			WalletId: walletID, AmountMinor: amount, Currency: currency, Provider: "adyen", SettlementReference: moneytest.NewIdemKey(),
		}}, e.AsAdmin())
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
}

// minted is a fresh QR token as the wallet app shows it.
type minted struct{ QrPayload, ShortCode string }

// mint mints a QR for the wallet as the customer's wallet app (a key that
// holds qr:mint and never pays).
func (e *payEnv) mint(walletID string) minted {
	e.t.Helper()
	return mintedOf(e.t, e.mintAs(walletID, e.AsWalletApp(e.t)))
}

// mintedOf reads a successful mint.
func mintedOf(t *testing.T, res *client.MintQrResponse) minted {
	t.Helper()
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	d := res.JSON200.Data
	require.False(t, d.SecretRedacted)
	require.NotNil(t, d.QrPayload)
	require.NotNil(t, d.ShortCode)
	return minted{QrPayload: *d.QrPayload, ShortCode: *d.ShortCode}
}

func (e *payEnv) mintAs(walletID string, auth client.RequestEditorFn) *client.MintQrResponse {
	e.t.Helper()
	res, err := e.C.MintQrWithResponse(e.Ctx, &client.MintQrParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.MintQrInput{Meta: moneytest.Meta(), Data: client.MintQrInputData{WalletId: walletID}}, auth)
	require.NoError(e.t, err)
	return res
}

// pay sends POST /payments with a fresh key.
func (e *payEnv) pay(data client.CreatePaymentInputData, auth ...client.RequestEditorFn) *client.CreatePaymentResponse {
	e.t.Helper()
	return e.payWithKey(moneytest.NewIdemKey(), data, auth...)
}

func (e *payEnv) payWithKey(key string, data client.CreatePaymentInputData, auth ...client.RequestEditorFn) *client.CreatePaymentResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.CreatePaymentWithResponse(e.Ctx, &client.CreatePaymentParams{IdempotencyKey: key},
		client.CreatePaymentInput{Meta: moneytest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

// payQR pays amount EUR with a QR payload or short code.
func (e *payEnv) payQR(value string, amount int64, mut ...func(*client.CreatePaymentInputData)) *client.CreatePaymentResponse {
	e.t.Helper()
	d := client.CreatePaymentInputData{AmountMinor: amount, Currency: "EUR", Credential: qrCredential(value)}
	for _, m := range mut {
		m(&d)
	}
	return e.pay(d)
}

func (e *payEnv) capture(paymentID string, data client.CapturePaymentInputData, auth ...client.RequestEditorFn) *client.CapturePaymentResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.CapturePaymentWithResponse(e.Ctx, paymentID, &client.CapturePaymentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CapturePaymentInput{Meta: moneytest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *payEnv) balance(walletID string) wallets.Wallet {
	e.t.Helper()
	var w wallets.Wallet
	err := e.S.Pool.QueryRow(context.Background(),
		`SELECT actual_minor, promo_available_minor, promo_locked_minor, status FROM wallets WHERE id = $1`, walletID).
		Scan(&w.Balance.Actual, &w.Balance.PromoAvailable, &w.Balance.PromoLocked, &w.Status)
	require.NoError(e.t, err)
	return w
}

func qrCredential(value string) client.PaymentCredential {
	return client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: &value}
}

// wantError checks the status and code of an error response and returns
// the error.
func wantError(t *testing.T, res interface{ StatusCode() int }, body []byte, status int, code client.ErrorCode) client.Error {
	t.Helper()
	require.Equal(t, status, res.StatusCode(), "body: %s", body)
	var env client.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	require.Equal(t, code, env.Error.Code, "body: %s", body)
	return env.Error
}

func payRef[T any](v T) *T { return &v }

// phoneOf reads the phone of a wallet's customer.
func (e *payEnv) phoneOf(walletID string) string {
	e.t.Helper()
	var phone string
	require.NoError(e.t, e.S.Pool.QueryRow(context.Background(),
		`SELECT c.phone FROM customers c JOIN wallets w ON w.merchant_id = c.merchant_id AND w.customer_id = c.id WHERE w.id = $1`, walletID).Scan(&phone))
	return phone
}

// otpCode reads the code of a challenge from its queued SMS.
func (e *payEnv) otpCode(challengeID string) string {
	e.t.Helper()
	var body string
	require.NoError(e.t, e.S.Pool.QueryRow(context.Background(),
		`SELECT body FROM sms_outbox WHERE subject_id = $1 AND kind = 'otp'`, challengeID).Scan(&body))
	code := regexp.MustCompile(`\d{6}`).FindString(body)
	require.NotEmpty(e.t, code, "sms: %s", body)
	return code
}

func (e *payEnv) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.S.Pool.Exec(context.Background(), sql, args...)
	require.NoError(e.t, err)
}

// keyWith is an API key of the merchant holding only these scopes.
func (e *payEnv) keyWith(scopes ...client.Scope) client.RequestEditorFn {
	e.t.Helper()
	return moneytest.Key(e.NewKey(e.t, "", scopes...))
}

// terminal is a terminal JWT with every scope, for a terminal of its own
// (rate limits count per terminal).
func (e *payEnv) terminal(name string) client.RequestEditorFn {
	e.t.Helper()
	return moneytest.Bearer(e.Mint(e.t, e.Admin, name))
}

func otpStart(phone string) client.PaymentCredential {
	return client.PaymentCredential{Type: client.PaymentCredentialTypeOtp, Phone: &phone}
}

func otpFinish(challengeID, code string) client.PaymentCredential {
	return client.PaymentCredential{Type: client.PaymentCredentialTypeOtp, ChallengeId: &challengeID, Code: &code}
}

func eur(amount int64, cred client.PaymentCredential) client.CreatePaymentInputData {
	return client.CreatePaymentInputData{AmountMinor: amount, Currency: "EUR", Credential: cred}
}
