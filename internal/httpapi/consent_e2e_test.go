package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
)

// Issue 8, section 1: with only a customer's phone number a till ran
// identify -> mint -> pay and captured a payment with no customer involved.
// Each test performs one step of that attack through the API and finds the
// door shut; the consent rule is in docs/authentication.md.

func TestConsentRule(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	t.Run("TheTillCannotSpendACustomersMoneyOnItsOwn", func(t *testing.T) {
		w := e.wallet(10_000)
		till := e.terminal("till-07")
		// The till finds the wallet by phone, as before...
		found := e.identify(client.IdentifyCredentialTypePhone, e.phoneOf(w.ID), till)
		require.Equal(t, http.StatusOK, found.StatusCode(), "body: %s", found.Body)
		walletID := found.JSON200.Data.Wallet.Id
		// ...but can mint its QR neither with its token nor with its key.
		res := e.mintAs(walletID, till)
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		res = e.mintAs(walletID, e.AsAdmin())
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		require.Equal(t, int64(10_000), e.balance(w.ID).Balance.Actual)
	})

	t.Run("ATillKeyWithoutQrMintCannotMint", func(t *testing.T) {
		w := e.wallet(0)
		tillKey := e.keyWith(client.ScopePaymentsWrite, client.ScopePaymentsRead, client.ScopeCustomersRead)
		res := e.mintAs(w.ID, tillKey)
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})

	t.Run("AKeyWithQrMintAndPaymentsWriteCannotBeCreated", func(t *testing.T) {
		res := e.createKey(e.AsAdmin(), client.ScopeQrMint, client.ScopePaymentsWrite)
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/scopes", *got.Field)
	})

	t.Run("OnlyAnOperatorCanCreateTheWalletAppsKey", func(t *testing.T) {
		// A till's key that manages keys cannot make itself a minting key.
		manager := e.keyWith(client.ScopeKeysManage, client.ScopePaymentsWrite, client.ScopeCustomersRead)
		res := e.createKey(manager, client.ScopeQrMint)
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		// The bootstrap operator, which does not hold qr:mint, can.
		res = e.createKey(e.AsAdmin(), client.ScopeQrMint)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, []client.Scope{client.ScopeQrMint}, res.JSON200.Data.Key.Scopes)
	})

	t.Run("ATerminalTokenCannotBeMintedWithQrMint", func(t *testing.T) {
		app := e.NewKey(t, "", client.ScopeQrMint, client.ScopeTokensIssue)
		res := e.issueToken(app, []client.Scope{client.ScopeTokensIssue, client.ScopeQrMint})
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/scopes/1", *got.Field)

		// Without scopes the token gets the key's, minus qr:mint, and
		// cannot mint.
		res = e.issueToken(app, nil)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, []client.Scope{client.ScopeTokensIssue}, res.JSON200.Data.Scopes)
		minted := e.mintAs(e.wallet(0).ID, moneytest.Bearer(*res.JSON200.Data.Token))
		wantError(t, minted, minted.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})

	t.Run("ATokenClaimingQrMintCannotMint", func(t *testing.T) {
		// A token minted before the rule (here: re-signed with the real
		// signing key) claims qr:mint; its key still holds it.
		app := e.NewKey(t, "", client.ScopeQrMint, client.ScopeTokensIssue)
		real := e.Mint(t, app, "wallet-kiosk")
		header, _ := jwtParts(t, real)
		stolen := stolenSigningKey(t, e.S.Pool, header["kid"].(string))
		old := forgeToken(t, stolen, real, map[string]any{"scope": "tokens:issue qr:mint"})
		res := e.mintAs(e.wallet(0).ID, moneytest.Bearer(old))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
	})

	t.Run("TheWalletAppMintsAndTheTillPays", func(t *testing.T) {
		w := e.wallet(1_000)
		m := e.mint(w.ID)
		res := e.pay(eur(100, qrCredential(m.ShortCode)), e.AsWalletApp(t))
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		res = e.pay(eur(100, qrCredential(m.ShortCode)), e.terminal("till-08"))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})
}

func (e *payEnv) createKey(as client.RequestEditorFn, scopes ...client.Scope) *client.CreateApiKeyResponse {
	e.t.Helper()
	res, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateApiKeyInput{Meta: moneytest.Meta(), Data: client.CreateApiKeyInputData{Name: "k " + moneytest.NewIdemKey(), Scopes: scopes}}, as)
	require.NoError(e.t, err)
	return res
}

func (e *payEnv) issueToken(key string, scopes []client.Scope) *client.CreateTerminalTokenResponse {
	e.t.Helper()
	data := client.CreateTerminalTokenInputData{TerminalId: "kiosk-1"}
	if scopes != nil {
		data.Scopes = &scopes
	}
	res, err := e.C.CreateTerminalTokenWithResponse(e.Ctx, &client.CreateTerminalTokenParams{},
		client.CreateTerminalTokenInput{Meta: moneytest.Meta(), Data: data}, moneytest.Key(key))
	require.NoError(e.t, err)
	return res
}

// wantRateLimited checks a rate_limited answer: 429 with
// details.retry_after_seconds and the same figure in Retry-After.
func wantRateLimited(t *testing.T, res interface{ StatusCode() int }, header http.Header, body []byte) {
	t.Helper()
	got := wantError(t, res, body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
	wait, ok := (*got.Details)["retry_after_seconds"].(float64)
	require.True(t, ok && wait >= 1, "body: %s", body)
	require.Equal(t, strconv.Itoa(int(wait)), header.Get("Retry-After"))
}

func TestPhoneSweep(t *testing.T) {
	t.Parallel()
	const limit = 5
	e := &payEnv{Env: moneytest.Start(t, func(c *config.Config) {
		c.LookupLimitPerTerminal = config.Rate{Max: limit, Window: time.Hour}
	}), t: t}
	w := e.wallet(0)
	phone := e.phoneOf(w.ID)

	t.Run("ATillSweepingPhoneNumbersIsStoppedAndAnotherTillIsNot", func(t *testing.T) {
		sweeper := e.terminal("till-sweep")
		// Numbers nobody has count as much as a hit.
		for i := range limit {
			res := e.identify(client.IdentifyCredentialTypePhone, fmt.Sprintf("+4917000000%03d", i), sweeper)
			wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeCustomerNotFound)
		}
		res := e.identify(client.IdentifyCredentialTypePhone, phone, sweeper)
		wantRateLimited(t, res, res.HTTPResponse.Header, res.Body)
		lookup := e.lookup(client.LookupCustomerParams{Phone: &phone}, sweeper)
		wantRateLimited(t, lookup, lookup.HTTPResponse.Header, lookup.Body)

		honest := e.terminal("till-honest")
		res = e.identify(client.IdentifyCredentialTypePhone, phone, honest)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})

	t.Run("CashierPanelLookupsCountToo", func(t *testing.T) {
		panel := e.terminal("panel-1")
		for range limit {
			res := e.lookup(client.LookupCustomerParams{Phone: &phone}, panel)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		}
		res := e.lookup(client.LookupCustomerParams{Phone: &phone}, panel)
		wantRateLimited(t, res, res.HTTPResponse.Header, res.Body)
	})
}

func TestSMSPumping(t *testing.T) {
	t.Parallel()
	e := &payEnv{Env: moneytest.Start(t, func(c *config.Config) {
		c.SMSLimitPerIntegration = config.Rate{Max: 3, Window: time.Hour}
		c.SMSLimitPerCountry = config.Rate{Max: 2, Window: time.Hour}
	}), t: t}
	initiate := func(phone string, as client.RequestEditorFn) *client.InitiateEnrollmentResponse {
		t.Helper()
		res, err := e.C.InitiateEnrollmentWithResponse(e.Ctx, &client.InitiateEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.InitiateEnrollmentInput{Meta: moneytest.Meta(), Data: client.InitiateEnrollmentInputData{Phone: phone}}, as)
		require.NoError(t, err)
		return res
	}
	sent := func(phone string) int {
		t.Helper()
		var n int
		require.NoError(t, e.S.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sms_outbox WHERE phone = $1`, phone).Scan(&n))
		return n
	}

	// A pumping attack enrolls premium numbers of one country.
	first := initiate("+447700900001", e.AsAdmin())
	require.Equal(t, http.StatusOK, first.StatusCode(), "body: %s", first.Body)
	res := initiate("+447700900002", e.AsAdmin())
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	t.Run("EnrollmentPastTheCountryCapIsRateLimited", func(t *testing.T) {
		res := initiate("+447700900003", e.AsAdmin())
		wantRateLimited(t, res, res.HTTPResponse.Header, res.Body)
		require.Zero(t, sent("+447700900003"), "a refused send sends nothing")
	})

	// Another country still has room under the integration's cap (3).
	res = initiate("+4915100000001", e.AsAdmin())
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	t.Run("ResendPastTheIntegrationCapIsRateLimited", func(t *testing.T) {
		// Past the 60-second resend interval, so only the cap can refuse
		// (two minutes refill a tenth of an SMS; this test owns its server).
		e.S.Clock.Advance(2 * time.Minute)
		id := first.JSON200.Data.Verification.VerificationId
		res, err := e.C.ResendEnrollmentWithResponse(e.Ctx, &client.ResendEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.ResendEnrollmentInput{Meta: moneytest.Meta(), Data: client.ResendEnrollmentInputData{VerificationId: &id}}, e.AsAdmin())
		require.NoError(t, err)
		wantRateLimited(t, res, res.HTTPResponse.Header, res.Body)
		require.Equal(t, 1, sent("+447700900001"))
	})

	t.Run("OTPPastTheIntegrationCapIsRateLimited", func(t *testing.T) {
		w := e.wallet(1_000)
		res := e.pay(eur(100, otpStart(e.phoneOf(w.ID))))
		wantRateLimited(t, res, res.HTTPResponse.Header, res.Body)
		require.Zero(t, sent(e.phoneOf(w.ID)))
	})

	t.Run("AnotherIntegrationHasItsOwnCap", func(t *testing.T) {
		_, otherKey := e.OtherIntegration(t)
		res := initiate("+447700900004", moneytest.Key(otherKey))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})
}
