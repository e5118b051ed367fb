package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
)

// TestFieldMessagesNameTheWireField holds auth's messages that open with
// the input's name to the request's JSON pointer, as they read before the
// domains named their inputs in their own terms (fielderr).
func TestFieldMessagesNameTheWireField(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	t.Run("ExclusiveScopes", func(t *testing.T) {
		t.Parallel()
		res := e.createKey(t, e.admin, "Both", []client.Scope{client.ScopePaymentsWrite, client.ScopeQrMint}, nil)
		got := requireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/scopes cannot hold both qr:mint and payments:write: the key that mints a wallet's QR (the wallet app) never pays with it (the till)", got.Message)
		require.Equal(t, "/data/scopes", *got.Field)
	})
	t.Run("TokenWithQrMint", func(t *testing.T) {
		t.Parallel()
		app, _ := e.newKey(t, e.admin, "Wallet app", client.ScopeTokensIssue, client.ScopeQrMint)
		res := e.mintRaw(t, app, []client.Scope{client.ScopeQrMint})
		got := requireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/scopes/0 qr:mint is never carried by a terminal token: only the wallet app's API key mints QR codes", got.Message)
		require.Equal(t, "/data/scopes/0", *got.Field)
	})
	t.Run("EscalationNamesTheScopeWithoutPrefix", func(t *testing.T) {
		t.Parallel()
		narrow, _ := e.newKey(t, e.admin, "Narrow", client.ScopeKeysManage, client.ScopeCustomersRead)
		res := e.createKey(t, narrow, "Wider", []client.Scope{client.ScopeCustomersRead, client.ScopePaymentsWrite}, nil)
		got := requireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		require.Equal(t, "this key cannot grant scopes it does not hold: payments:write", got.Message)
		require.Equal(t, "/data/scopes/1", *got.Field)
	})
}
