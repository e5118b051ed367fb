package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/sms"
)

// enrollEnv is a running server with a bootstrapped merchant, for the
// enrollment, claims and sandbox operations.
type enrollEnv struct {
	t      *testing.T
	ctx    context.Context
	s      *apptest.Server
	c      *client.ClientWithResponses
	tenant apptest.Tenant
}

func newEnrollEnv(t *testing.T, opts ...apptest.Option) *enrollEnv {
	t.Helper()
	s := apptest.Start(t, opts...)
	return &enrollEnv{t: t, ctx: context.Background(), s: s, c: s.Client, tenant: s.Bootstrap(t, "Enroll Merchant")}
}

func (e *enrollEnv) admin() client.RequestEditorFn { return apptest.WithKey(e.tenant.APIKey) }

// keyWith makes an API key of the tenant's integration holding scopes.
func (e *enrollEnv) keyWith(scopes ...client.Scope) client.RequestEditorFn {
	e.t.Helper()
	res, err := e.c.CreateApiKeyWithResponse(e.ctx, &client.CreateApiKeyParams{IdempotencyKey: apptest.NewIdempotencyKey()},
		client.CreateApiKeyInput{Meta: apptest.Meta(), Data: client.CreateApiKeyInputData{Name: "scoped", Scopes: scopes}}, e.admin())
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return apptest.WithKey(*res.JSON200.Data.ApiKey)
}

var enrollPhones atomic.Int64

func newEnrollPhone() string { return fmt.Sprintf("+4917%09d", enrollPhones.Add(1)) }

func (e *enrollEnv) initiate(data client.InitiateEnrollmentInputData, auth ...client.RequestEditorFn) *client.InitiateEnrollmentResponse {
	e.t.Helper()
	return e.initiateWithKey(apptest.NewIdempotencyKey(), data, auth...)
}

func (e *enrollEnv) initiateWithKey(key string, data client.InitiateEnrollmentInputData, auth ...client.RequestEditorFn) *client.InitiateEnrollmentResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.admin()}
	}
	res, err := e.c.InitiateEnrollmentWithResponse(e.ctx, &client.InitiateEnrollmentParams{IdempotencyKey: key},
		client.InitiateEnrollmentInput{Meta: apptest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

// enroll starts an enrollment that must succeed.
func (e *enrollEnv) enroll(phone string, welcomeMinor int64) client.EnrollmentInitiation {
	e.t.Helper()
	data := client.InitiateEnrollmentInputData{Phone: phone}
	if welcomeMinor > 0 {
		data.WelcomeGrant = &client.WelcomeGrantInput{AmountMinor: welcomeMinor, ExpiresInDays: 90}
	}
	res := e.initiate(data)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

func (e *enrollEnv) verify(data client.VerifyEnrollmentInputData, auth ...client.RequestEditorFn) *client.VerifyEnrollmentResponse {
	e.t.Helper()
	return e.verifyWithKey(apptest.NewIdempotencyKey(), data, auth...)
}

func (e *enrollEnv) verifyWithKey(key string, data client.VerifyEnrollmentInputData, auth ...client.RequestEditorFn) *client.VerifyEnrollmentResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.admin()}
	}
	res, err := e.c.VerifyEnrollmentWithResponse(e.ctx, &client.VerifyEnrollmentParams{IdempotencyKey: key},
		client.VerifyEnrollmentInput{Meta: apptest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *enrollEnv) resend(data client.ResendEnrollmentInputData, auth ...client.RequestEditorFn) *client.ResendEnrollmentResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.admin()}
	}
	res, err := e.c.ResendEnrollmentWithResponse(e.ctx, &client.ResendEnrollmentParams{IdempotencyKey: apptest.NewIdempotencyKey()},
		client.ResendEnrollmentInput{Meta: apptest.Meta(), Data: data}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *enrollEnv) claim(walletID string, auth ...client.RequestEditorFn) *client.CreateClaimResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.admin()}
	}
	res, err := e.c.CreateClaimWithResponse(e.ctx, &client.CreateClaimParams{IdempotencyKey: apptest.NewIdempotencyKey()},
		client.CreateClaimInput{Meta: apptest.Meta(), Data: client.CreateClaimInputData{WalletId: walletID}}, auth...)
	require.NoError(e.t, err)
	return res
}

func (e *enrollEnv) messages(params client.ListSandboxMessagesParams, auth ...client.RequestEditorFn) *client.ListSandboxMessagesResponse {
	e.t.Helper()
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.admin()}
	}
	res, err := e.c.ListSandboxMessagesWithResponse(e.ctx, &params, auth...)
	require.NoError(e.t, err)
	return res
}

var smsText = regexp.MustCompile(`code is (\d{6})\. Or tap \S+/(ver_[0-9A-Z]{26})/([A-Za-z0-9_-]+) `)

// queuedSecrets reads the code and link token of the verification's SMS
// waiting in the outbox (jobs are not running), as the phone would get them.
func (e *enrollEnv) queuedSecrets(verificationID string) (code, token string) {
	e.t.Helper()
	var body string
	require.NoError(e.t, e.s.Pool.QueryRow(e.ctx,
		`SELECT body FROM sms_outbox WHERE subject_id = $1 AND state = 'queued' ORDER BY id DESC LIMIT 1`, verificationID).Scan(&body))
	m := smsText.FindStringSubmatch(body)
	require.NotNil(e.t, m, "SMS text %q", body)
	return m[1], m[3]
}

func (e *enrollEnv) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.s.Pool.Exec(e.ctx, sql, args...)
	require.NoError(e.t, err)
}

// requireError asserts a failed call's status and code and returns the error.
func requireError(t *testing.T, status int, code client.ErrorCode, gotStatus int, body []byte) client.Error {
	t.Helper()
	require.Equal(t, status, gotStatus, "body: %s", body)
	var env client.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env))
	require.Equal(t, code, env.Error.Code, "body: %s", body)
	return env.Error
}

func detail(t *testing.T, e client.Error, key string) any {
	t.Helper()
	require.NotNil(t, e.Details, "the error has no details")
	v, ok := (*e.Details)[key]
	require.True(t, ok, "details lack %s: %v", key, *e.Details)
	return v
}

func other6(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestEnrollmentFlowInTheSandbox(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)
	e.s.StartJobs(t)
	phone := newEnrollPhone()

	in := e.enroll(phone, 500)
	require.Equal(t, client.WalletStatusPendingProof, in.Wallet.Status)
	require.Equal(t, int64(500), in.Wallet.Balance.PromoLockedMinor)

	// The dispatcher delivers the SMS; the sandbox keeps it for read-back.
	var msg client.SandboxMessage
	require.Eventually(t, func() bool {
		res := e.messages(client.ListSandboxMessagesParams{Phone: phone})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		if len(res.JSON200.Data.Items) == 0 {
			return false
		}
		msg = res.JSON200.Data.Items[0]
		return true
	}, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, client.SandboxMessageKindEnrollmentVerification, msg.Kind)
	require.Equal(t, phone, msg.Phone)
	require.NotNil(t, msg.DeliveredAt)
	m := smsText.FindStringSubmatch(msg.Body)
	require.NotNil(t, m, "SMS text %q", msg.Body)
	require.Equal(t, in.Verification.VerificationId, m[2])

	res := e.verify(client.VerifyEnrollmentInputData{VerificationId: &in.Verification.VerificationId, Code: &m[1]})
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	got := res.JSON200.Data
	require.Equal(t, client.WalletStatusVerified, got.Wallet.Status)
	require.NotNil(t, got.Wallet.VerifiedAt)
	require.Equal(t, int64(500), got.Wallet.Balance.PromoAvailableMinor)
	require.Equal(t, int64(500), got.Wallet.Balance.SpendableMinor)
	require.Zero(t, got.Wallet.Balance.PromoLockedMinor)
	require.Len(t, got.ReleasedGrants, 1)
	g := got.ReleasedGrants[0]
	require.Equal(t, in.Grants[0].Id, g.Id)
	require.Equal(t, client.GrantStateAvailable, g.State)
	last := g.History[len(g.History)-1]
	require.Equal(t, "wallet_verified", last.Reason)
	require.NotNil(t, last.TransactionId)

	// The ledger shows the release.
	promoRelease := client.TransactionType("promo_release")
	txns, err := e.c.ListTransactionsWithResponse(e.ctx, e.tenant.IntegrationID,
		&client.ListTransactionsParams{WalletId: &got.Wallet.Id, Type: &promoRelease}, e.admin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, txns.StatusCode(), "body: %s", txns.Body)
	require.Len(t, txns.JSON200.Data.Items, 1)
	txn := txns.JSON200.Data.Items[0]
	require.Equal(t, *last.TransactionId, txn.Id)
	require.Equal(t, int64(500), txn.AmountMinor)
	require.Equal(t, int64(500), txn.BalanceAfter.PromoAvailableMinor)

	// Nothing is waiting: the sms subsystem is healthy.
	health, err := e.c.GetHealthWithResponse(e.ctx, &client.GetHealthParams{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, health.StatusCode(), "body: %s", health.Body)
	require.NotContains(t, health.JSON200.Data.DegradedSubsystems, client.HealthSubsystem("sms"))
}

func TestInitiateEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)

	t.Run("CreatesAPendingWalletAndItsLockedWelcomeGrant", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		name, fp, crm, eur := "Jonas M.", "fp-"+phone, "crm-"+phone, "EUR"
		res := e.initiate(client.InitiateEnrollmentInputData{
			Phone: phone, DisplayName: &name, CardFingerprint: &fp, ProviderCustomerId: &crm, Currency: &eur,
			WelcomeGrant: &client.WelcomeGrantInput{AmountMinor: 500, ExpiresInDays: 90},
		})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		d := res.JSON200.Data
		require.Equal(t, d.CustomerId, d.Wallet.CustomerId)
		require.Equal(t, client.WalletStatusPendingProof, d.Wallet.Status)
		require.Nil(t, d.Wallet.VerifiedAt)
		require.Equal(t, int64(500), d.Wallet.Balance.PromoLockedMinor)
		require.Zero(t, d.Wallet.Balance.SpendableMinor)
		require.Len(t, d.Grants, 1)
		require.Equal(t, client.GrantStateLocked, d.Grants[0].State)
		require.Equal(t, client.GrantSourceWelcome, d.Grants[0].Source)
		require.Equal(t, 5, d.Verification.AttemptsRemaining)
		require.Equal(t, 3, d.Verification.ResendsRemaining)
		require.WithinDuration(t, time.Now().Add(15*time.Minute), d.Verification.ExpiresAt, 10*time.Second)
		require.WithinDuration(t, time.Now().Add(time.Minute), d.Verification.ResendAvailableAt, 10*time.Second)
		require.NotRegexp(t, `\b\d{6}\b`, string(res.Body), "the code never appears in an answer")
	})

	t.Run("ARetryWithTheSameKeyReplays", func(t *testing.T) {
		t.Parallel()
		key, phone := apptest.NewIdempotencyKey(), newEnrollPhone()
		first := e.initiateWithKey(key, client.InitiateEnrollmentInputData{Phone: phone})
		again := e.initiateWithKey(key, client.InitiateEnrollmentInputData{Phone: phone})
		require.Equal(t, http.StatusOK, again.StatusCode(), "body: %s", again.Body)
		require.True(t, again.JSON200.Meta.IdempotentReplay)
		require.Equal(t, first.JSON200.Data.Wallet.Id, again.JSON200.Data.Wallet.Id)
	})

	t.Run("APendingPhoneGetsItsEnrollmentBackWithoutANewSMS", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		first := e.enroll(phone, 500)
		again := e.enroll(phone, 700)
		require.Equal(t, first.Wallet.Id, again.Wallet.Id)
		require.Equal(t, first.Verification.VerificationId, again.Verification.VerificationId)
		require.Equal(t, int64(500), again.Wallet.Balance.PromoLockedMinor)
		require.Len(t, again.Grants, 1)
		var n int
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT count(*) FROM sms_outbox WHERE subject_id = $1`, first.Verification.VerificationId).Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("AVerifiedPhoneIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 0)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		require.Equal(t, http.StatusOK, e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}).StatusCode())
		res := e.initiate(client.InitiateEnrollmentInputData{Phone: phone})
		apiErr := requireError(t, http.StatusConflict, client.ErrorCodeAlreadyEnrolled, res.StatusCode(), res.Body)
		require.Equal(t, in.CustomerId, detail(t, apiErr, "customer_id"))
	})

	t.Run("AnUnservedCurrencyIsRefused", func(t *testing.T) {
		t.Parallel()
		xxx := "XXX"
		res := e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone(), Currency: &xxx})
		apiErr := requireError(t, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported, res.StatusCode(), res.Body)
		require.Equal(t, "/data/currency", *apiErr.Field)
	})

	t.Run("ABadPhoneOrACardOfAnotherCustomerIsInvalid", func(t *testing.T) {
		t.Parallel()
		// A national number, and one with spaces: the message says phones
		// are E.164, as identify's does, and never echoes the number.
		for _, phone := range []string{"01761234567", "+49 176 1234567", "0176 123"} {
			res := e.initiate(client.InitiateEnrollmentInputData{Phone: phone})
			apiErr := requireError(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
			require.Equal(t, "/data/phone", *apiErr.Field)
			require.Contains(t, apiErr.Message, "E.164")
			require.NotContains(t, apiErr.Message, phone)
		}

		fp := "fp-shared-" + newEnrollPhone()
		require.Equal(t, http.StatusOK, e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone(), CardFingerprint: &fp}).StatusCode())
		res := e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone(), CardFingerprint: &fp})
		apiErr := requireError(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/card_fingerprint", *apiErr.Field)
	})

	t.Run("ATerminalTokenMayEnrollAndItsTerminalIsRecorded", func(t *testing.T) {
		t.Parallel()
		tok, err := e.c.CreateTerminalTokenWithResponse(e.ctx, &client.CreateTerminalTokenParams{}, client.CreateTerminalTokenInput{
			Meta: apptest.Meta(), Data: client.CreateTerminalTokenInputData{TerminalId: "till-04"},
		}, e.admin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, tok.StatusCode(), "body: %s", tok.Body)
		res := e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone(), WelcomeGrant: &client.WelcomeGrantInput{AmountMinor: 200, ExpiresInDays: 30}},
			apptest.WithBearer(*tok.JSON200.Data.Token))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		var terminal string
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT terminal_id FROM ledger_transactions WHERE type = 'promo_grant' AND wallet_id = $1`,
			res.JSON200.Data.Wallet.Id).Scan(&terminal))
		require.Equal(t, "till-04", terminal)
	})

	t.Run("NeedsCustomersWrite", func(t *testing.T) {
		t.Parallel()
		res := e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone()}, e.keyWith(client.ScopeCustomersRead))
		requireError(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		res = e.initiate(client.InitiateEnrollmentInputData{Phone: newEnrollPhone()}, e.keyWith(client.ScopeCustomersWrite))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})
}

func TestVerifyEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)

	t.Run("TheLinkTokenVerifiesTheWallet", func(t *testing.T) {
		t.Parallel()
		in := e.enroll(newEnrollPhone(), 300)
		_, token := e.queuedSecrets(in.Verification.VerificationId)
		res := e.verify(client.VerifyEnrollmentInputData{VerificationId: &in.Verification.VerificationId, LinkToken: &token})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, client.WalletStatusVerified, res.JSON200.Data.Wallet.Status)
		require.Len(t, res.JSON200.Data.ReleasedGrants, 1)
	})

	t.Run("AWrongCodeCountsEvenThoughTheCallFails", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 300)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		wrong := other6(code)
		for remaining := 4; remaining >= 1; remaining-- {
			res := e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &wrong})
			apiErr := requireError(t, http.StatusUnprocessableEntity, client.ErrorCodeVerificationCodeInvalid, res.StatusCode(), res.Body)
			require.InDelta(t, remaining, detail(t, apiErr, "attempts_remaining"), 0)
			require.Equal(t, "/data/code", *apiErr.Field)
		}
		var failed int
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT failed_attempts FROM verifications WHERE id = $1`, in.Verification.VerificationId).Scan(&failed))
		require.Equal(t, 4, failed, "every wrong attempt was committed with its stored error answer")

		res := e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &wrong})
		requireError(t, http.StatusTooManyRequests, client.ErrorCodeVerificationAttemptsExhausted, res.StatusCode(), res.Body)
		res = e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code})
		requireError(t, http.StatusTooManyRequests, client.ErrorCodeVerificationAttemptsExhausted, res.StatusCode(), res.Body)
	})

	t.Run("ALateCodeHasExpired", func(t *testing.T) {
		t.Parallel()
		e := newEnrollEnv(t) // it advances the clock
		in := e.enroll(newEnrollPhone(), 0)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		e.s.Clock.Advance(enrollment.CodeLifetime + time.Second)
		res := e.verify(client.VerifyEnrollmentInputData{VerificationId: &in.Verification.VerificationId, Code: &code})
		requireError(t, http.StatusGone, client.ErrorCodeVerificationExpired, res.StatusCode(), res.Body)
	})

	t.Run("AnUnknownVerificationIsNotFound", func(t *testing.T) {
		t.Parallel()
		code, phone, id := "123456", newEnrollPhone(), "ver_01JWR92V6BEBRE90AQ9398AR52"
		res := e.verify(client.VerifyEnrollmentInputData{VerificationId: &id, Code: &code})
		requireError(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		res = e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code})
		requireError(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})

	t.Run("AVerifiedWalletIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 0)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		require.Equal(t, http.StatusOK, e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}).StatusCode())
		res := e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code})
		apiErr := requireError(t, http.StatusConflict, client.ErrorCodeAlreadyEnrolled, res.StatusCode(), res.Body)
		require.Equal(t, in.CustomerId, detail(t, apiErr, "customer_id"))
	})

	t.Run("NeedsExactlyOneTargetAndOneSecret", func(t *testing.T) {
		t.Parallel()
		code, token, phone, id := "123456", "AAAAAAAAAAAAAAAAAAAAAAAA", newEnrollPhone(), "ver_01JWR92V6BEBRE90AQ9398AR52"
		for name, d := range map[string]client.VerifyEnrollmentInputData{
			"no target":   {Code: &code},
			"two targets": {VerificationId: &id, Phone: &phone, Code: &code},
			"no secret":   {Phone: &phone},
			"two secrets": {Phone: &phone, Code: &code, LinkToken: &token},
		} {
			res := e.verify(d)
			require.Equal(t, http.StatusBadRequest, res.StatusCode(), "%s: %s", name, res.Body)
			requireError(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		}
	})

	t.Run("NeedsCustomersWrite", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 0)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		res := e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}, e.keyWith(client.ScopeCustomersRead, client.ScopePaymentsWrite))
		requireError(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})

	t.Run("AFailureInsideTheTransactionChangesNothingAndStoresNothing", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 500)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		// A fault when the wallet's grants become available: after the
		// wallet flipped, inside the same transaction.
		trigger := "fail_" + strings.ToLower(in.Wallet.Id)
		e.exec(`CREATE FUNCTION ` + trigger + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'injected failure'; END $$`)
		e.exec(`CREATE TRIGGER ` + trigger + ` BEFORE UPDATE ON grants FOR EACH ROW
			WHEN (NEW.state = 'available' AND NEW.wallet_id = '` + in.Wallet.Id + `') EXECUTE FUNCTION ` + trigger + `()`)

		key := apptest.NewIdempotencyKey()
		res := e.verifyWithKey(key, client.VerifyEnrollmentInputData{Phone: &phone, Code: &code})
		apiErr := requireError(t, http.StatusInternalServerError, client.ErrorCodeInternalError, res.StatusCode(), res.Body)
		require.NotContains(t, apiErr.Message, "injected")
		var status string
		var locked, available int64
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT status, promo_locked_minor, promo_available_minor FROM wallets WHERE id = $1`,
			in.Wallet.Id).Scan(&status, &locked, &available))
		require.Equal(t, "pending_proof", status)
		require.Equal(t, int64(500), locked)
		require.Zero(t, available)
		var grantState, verState string
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT state FROM grants WHERE wallet_id = $1`, in.Wallet.Id).Scan(&grantState))
		require.Equal(t, "locked", grantState)
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT state FROM verifications WHERE id = $1`, in.Verification.VerificationId).Scan(&verState))
		require.Equal(t, "pending", verState)

		// Nothing was stored under the key: once the fault is gone the
		// same request runs for real.
		e.exec(`DROP TRIGGER ` + trigger + ` ON grants`)
		res = e.verifyWithKey(key, client.VerifyEnrollmentInputData{Phone: &phone, Code: &code})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.False(t, res.JSON200.Meta.IdempotentReplay)
		require.Len(t, res.JSON200.Data.ReleasedGrants, 1)
	})

	t.Run("ConcurrentVerifiesReleaseOnce", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 500)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses[i] = e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}).StatusCode()
			})
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else {
				require.Equal(t, http.StatusConflict, s)
			}
		}
		require.Equal(t, 1, ok)
		var releases int
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT count(*) FROM ledger_transactions WHERE type = 'promo_release' AND wallet_id = $1`, in.Wallet.Id).Scan(&releases))
		require.Equal(t, 1, releases)
	})
}

func TestResendEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)

	t.Run("TooSoonIsRateLimitedWithRetryAfter", func(t *testing.T) {
		t.Parallel()
		in := e.enroll(newEnrollPhone(), 0)
		res := e.resend(client.ResendEnrollmentInputData{VerificationId: &in.Verification.VerificationId})
		apiErr := requireError(t, http.StatusTooManyRequests, client.ErrorCodeRateLimited, res.StatusCode(), res.Body)
		require.True(t, apiErr.Retryable)
		wait := detail(t, apiErr, "retry_after_seconds").(float64)
		require.InDelta(t, 60, wait, 5)
		require.Equal(t, fmt.Sprint(wait), res.HTTPResponse.Header.Get("Retry-After"))
	})

	t.Run("SendsANewCodeAndKillsTheOldOne", func(t *testing.T) {
		t.Parallel()
		e := newEnrollEnv(t) // it advances the clock
		phone := newEnrollPhone()
		in := e.enroll(phone, 0)
		vid := in.Verification.VerificationId
		oldCode, oldToken := e.queuedSecrets(vid)
		e.s.Clock.Advance(enrollment.ResendInterval + time.Second)
		res := e.resend(client.ResendEnrollmentInputData{Phone: &phone})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		st := res.JSON200.Data
		require.Equal(t, vid, st.VerificationId)
		require.Equal(t, 2, st.ResendsRemaining)
		require.Equal(t, 5, st.AttemptsRemaining)
		newCode, _ := e.queuedSecrets(vid)

		v := e.verify(client.VerifyEnrollmentInputData{Phone: &phone, LinkToken: &oldToken})
		requireError(t, http.StatusUnprocessableEntity, client.ErrorCodeVerificationCodeInvalid, v.StatusCode(), v.Body)
		if oldCode != newCode {
			v = e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &oldCode})
			requireError(t, http.StatusUnprocessableEntity, client.ErrorCodeVerificationCodeInvalid, v.StatusCode(), v.Body)
		}
		v = e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &newCode})
		require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
	})

	t.Run("ThreeResendsADay", func(t *testing.T) {
		t.Parallel()
		e := newEnrollEnv(t) // it advances the clock
		in := e.enroll(newEnrollPhone(), 0)
		vid := in.Verification.VerificationId
		// Three resends, 23, 5 and 2 hours before the fourth asks.
		for _, wait := range []time.Duration{time.Hour, 18 * time.Hour, 3 * time.Hour} {
			e.s.Clock.Advance(wait)
			res := e.resend(client.ResendEnrollmentInputData{VerificationId: &vid})
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		}
		e.s.Clock.Advance(2 * time.Hour)
		res := e.resend(client.ResendEnrollmentInputData{VerificationId: &vid})
		apiErr := requireError(t, http.StatusTooManyRequests, client.ErrorCodeResendLimitReached, res.StatusCode(), res.Body)
		require.InDelta(t, 3600, detail(t, apiErr, "retry_after_seconds"), 5)
		require.NotEmpty(t, res.HTTPResponse.Header.Get("Retry-After"))
	})

	t.Run("UnknownIsNotFoundAndVerifiedIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		res := e.resend(client.ResendEnrollmentInputData{Phone: &phone})
		requireError(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)

		in := e.enroll(phone, 0)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		require.Equal(t, http.StatusOK, e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}).StatusCode())
		res = e.resend(client.ResendEnrollmentInputData{Phone: &phone})
		requireError(t, http.StatusConflict, client.ErrorCodeAlreadyEnrolled, res.StatusCode(), res.Body)
	})

	t.Run("NeedsExactlyOneTarget", func(t *testing.T) {
		t.Parallel()
		res := e.resend(client.ResendEnrollmentInputData{})
		requireError(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
	})

	t.Run("NeedsCustomersWrite", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		e.enroll(phone, 0)
		res := e.resend(client.ResendEnrollmentInputData{Phone: &phone}, e.keyWith(client.ScopeCustomersRead))
		requireError(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
}

func TestCreateClaim(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)

	t.Run("APendingWalletNeedsProof", func(t *testing.T) {
		t.Parallel()
		in := e.enroll(newEnrollPhone(), 500)
		res := e.claim(in.Wallet.Id)
		apiErr := requireError(t, http.StatusConflict, client.ErrorCodeProofRequired, res.StatusCode(), res.Body)
		require.Equal(t, in.Verification.VerificationId, detail(t, apiErr, "verification_id"))
		require.InDelta(t, 5, detail(t, apiErr, "attempts_remaining"), 0)
		require.InDelta(t, 3, detail(t, apiErr, "resends_remaining"), 0)
		require.NotEmpty(t, detail(t, apiErr, "expires_at"))
		require.NotEmpty(t, detail(t, apiErr, "resend_available_at"))
	})

	t.Run("AVerifiedWalletReleasesWhatIsLeftAndRepeatsSafely", func(t *testing.T) {
		t.Parallel()
		phone := newEnrollPhone()
		in := e.enroll(phone, 500)
		code, _ := e.queuedSecrets(in.Verification.VerificationId)
		require.Equal(t, http.StatusOK, e.verify(client.VerifyEnrollmentInputData{Phone: &phone, Code: &code}).StatusCode())
		for range 2 {
			res := e.claim(in.Wallet.Id)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			require.Empty(t, res.JSON200.Data.ReleasedGrants)
			require.Equal(t, client.WalletStatusVerified, res.JSON200.Data.Wallet.Status)
			require.Equal(t, int64(500), res.JSON200.Data.Wallet.Balance.PromoAvailableMinor)
		}
	})

	t.Run("AnUnknownOrForeignWalletIsNotFound", func(t *testing.T) {
		t.Parallel()
		res := e.claim("wal_01JWRNGNKDE6EDYKDM9WBETHSM")
		requireError(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)

		other := e.s.Bootstrap(t, "Other Merchant")
		in := e.enroll(newEnrollPhone(), 0)
		res = e.claim(in.Wallet.Id, apptest.WithKey(other.APIKey))
		requireError(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})

	t.Run("NeedsCustomersWrite", func(t *testing.T) {
		t.Parallel()
		in := e.enroll(newEnrollPhone(), 0)
		res := e.claim(in.Wallet.Id, e.keyWith(client.ScopeCustomersRead))
		requireError(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
}

func TestListSandboxMessages(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)
	e.s.StartJobs(t)
	phone := newEnrollPhone()
	in := e.enroll(phone, 0)
	vid := in.Verification.VerificationId
	for range 2 {
		e.s.Clock.Advance(enrollment.ResendInterval + time.Second)
		res := e.resend(client.ResendEnrollmentInputData{VerificationId: &vid})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	}
	delivered := func() int {
		var n int
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT count(*) FROM sandbox_messages WHERE phone = $1`, phone).Scan(&n))
		return n
	}
	// Some of the three may be superseded before the dispatcher gets to
	// them; the newest is always delivered.
	require.Eventually(t, func() bool {
		var queued int
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT count(*) FROM sms_outbox WHERE phone = $1 AND state = 'queued'`, phone).Scan(&queued))
		return queued == 0 && delivered() >= 1
	}, 15*time.Second, 50*time.Millisecond)
	total := delivered()

	t.Run("PagesNewestFirst", func(t *testing.T) {
		t.Parallel()
		one := 1
		var seen []client.SandboxMessage
		params := client.ListSandboxMessagesParams{Phone: phone, Limit: &one}
		for {
			res := e.messages(params)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			seen = append(seen, res.JSON200.Data.Items...)
			if !res.JSON200.Data.HasMore {
				require.Nil(t, res.JSON200.Data.NextCursor)
				break
			}
			params.Cursor = res.JSON200.Data.NextCursor
		}
		require.Len(t, seen, total)
		for i := 1; i < len(seen); i++ {
			require.False(t, seen[i].CreatedAt.After(seen[i-1].CreatedAt))
		}
	})

	t.Run("ATamperedCursorIsInvalid", func(t *testing.T) {
		t.Parallel()
		bad := "bm90LWEtY3Vyc29y"
		res := e.messages(client.ListSandboxMessagesParams{Phone: phone, Cursor: &bad})
		apiErr := requireError(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/query/cursor", *apiErr.Field)
	})

	t.Run("AnotherMerchantSeesNothing", func(t *testing.T) {
		t.Parallel()
		other := e.s.Bootstrap(t, "Other Merchant")
		res := e.messages(client.ListSandboxMessagesParams{Phone: phone}, apptest.WithKey(other.APIKey))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Empty(t, res.JSON200.Data.Items)
	})

	t.Run("NeedsCustomersWrite", func(t *testing.T) {
		t.Parallel()
		res := e.messages(client.ListSandboxMessagesParams{Phone: phone}, e.keyWith(client.ScopeCustomersRead))
		requireError(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
}

func TestSandboxMessagesAreClosedInLive(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t, apptest.Live())
	res := e.messages(client.ListSandboxMessagesParams{Phone: newEnrollPhone()})
	requireError(t, http.StatusForbidden, client.ErrorCodeOperationNotEnabled, res.StatusCode(), res.Body)
}

func TestHealthReportsLateSMS(t *testing.T) {
	t.Parallel()
	e := newEnrollEnv(t)
	e.enroll(newEnrollPhone(), 0)
	e.s.Clock.Advance(sms.StaleAfter + time.Minute)
	res, err := e.c.GetHealthWithResponse(e.ctx, &client.GetHealthParams{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.Equal(t, client.HealthStatusDegraded, res.JSON200.Data.Status)
	require.Contains(t, res.JSON200.Data.DegradedSubsystems, client.HealthSubsystem("sms"))
}
