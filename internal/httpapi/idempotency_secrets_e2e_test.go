package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
)

// Stored responses hold no secrets, and a key replays only to the
// credential that used it (issue 8, section 2).
func TestIdempotencySecrets(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	// stored is every stored response, as text.
	stored := func(t *testing.T) string {
		t.Helper()
		var all string
		require.NoError(t, e.S.Pool.QueryRow(context.Background(),
			`SELECT coalesce(string_agg(convert_from(response_body, 'UTF8'), ' '), '') FROM idempotency_keys`).Scan(&all))
		return all
	}

	t.Run("MintedCodesAreNotStoredAndReplayRedacted", func(t *testing.T) {
		w := e.wallet(0)
		key := moneytest.NewIdemKey()
		mintWith := func() *client.MintQrResponse {
			res, err := e.C.MintQrWithResponse(e.Ctx, &client.MintQrParams{IdempotencyKey: key},
				client.MintQrInput{Meta: moneytest.Meta(), Data: client.MintQrInputData{WalletId: w.ID}}, e.AsWalletApp(t))
			require.NoError(t, err)
			return res
		}
		m := mintedOf(t, mintWith())
		all := stored(t)
		require.NotContains(t, all, m.QrPayload)
		require.NotContains(t, all, m.ShortCode)

		replay := mintWith()
		require.Equal(t, http.StatusOK, replay.StatusCode(), "body: %s", replay.Body)
		require.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))
		d := replay.JSON200.Data
		require.True(t, d.SecretRedacted)
		require.Nil(t, d.QrPayload)
		require.Nil(t, d.ShortCode)
	})

	t.Run("TerminalTokensAreNotStoredAndReplayRedacted", func(t *testing.T) {
		key := moneytest.NewIdemKey()
		res := e.tokenWith(t, e.Admin, key, "till-07")
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.False(t, res.JSON200.Data.SecretRedacted)
		require.NotContains(t, stored(t), *res.JSON200.Data.Token)

		replay := e.tokenWith(t, e.Admin, key, "till-07")
		require.Equal(t, http.StatusOK, replay.StatusCode(), "body: %s", replay.Body)
		require.True(t, replay.JSON200.Data.SecretRedacted)
		require.Nil(t, replay.JSON200.Data.Token)
	})

	t.Run("ApiKeysAreNotStored", func(t *testing.T) {
		raw := e.NewKey(t, "", client.ScopeCustomersRead)
		require.NotContains(t, stored(t), raw)
	})

	t.Run("AnotherCredentialsKeyIsANewKeyForIt", func(t *testing.T) {
		// The attack: a key holding only tokens:issue reuses the admin key's
		// Idempotency-Key and body, hoping for the admin's token.
		key := moneytest.NewIdemKey()
		first := e.tokenWith(t, e.Admin, key, "till-08")
		require.Equal(t, http.StatusOK, first.StatusCode(), "body: %s", first.Body)
		narrow := e.NewKey(t, "", client.ScopeTokensIssue)
		second := e.tokenWith(t, narrow, key, "till-08")
		require.Equal(t, http.StatusOK, second.StatusCode(), "body: %s", second.Body)
		require.Empty(t, second.HTTPResponse.Header.Get("Idempotent-Replayed"), "not a replay of another key's response")
		require.False(t, second.JSON200.Data.SecretRedacted)
		require.Equal(t, []client.Scope{client.ScopeTokensIssue}, second.JSON200.Data.Scopes, "its own token, with its own scopes")
		require.NotEqual(t, first.JSON200.Data.KeyId, second.JSON200.Data.KeyId)
	})

	t.Run("TwoTerminalsOfOneKeyHaveTheirOwnKeys", func(t *testing.T) {
		w := e.wallet(10_000)
		key := moneytest.NewIdemKey()
		code := e.mint(w.ID).ShortCode
		pay := func(terminal string) *client.CreatePaymentResponse {
			return e.payWithKey(key, eur(100, qrCredential(code)), e.terminal(terminal))
		}
		require.Equal(t, http.StatusOK, pay("till-a").StatusCode())
		other := pay("till-b")
		require.Empty(t, other.HTTPResponse.Header.Get("Idempotent-Replayed"))
		got := wantError(t, other, other.Body, http.StatusUnprocessableEntity, client.ErrorCodeCredentialInvalid)
		require.Equal(t, "used", (*got.Details)["reason"], "till-b's request ran: the code was already used by till-a")
	})
}

func (e *payEnv) tokenWith(t *testing.T, apiKey, idemKey, terminal string) *client.CreateTerminalTokenResponse {
	t.Helper()
	res, err := e.C.CreateTerminalTokenWithResponse(e.Ctx, &client.CreateTerminalTokenParams{IdempotencyKey: &idemKey},
		client.CreateTerminalTokenInput{Meta: moneytest.Meta(), Data: client.CreateTerminalTokenInputData{TerminalId: terminal}},
		moneytest.Key(apiKey))
	require.NoError(t, err)
	return res
}
