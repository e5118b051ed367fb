package grants_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
)

func TestListCustomerGrantsE2E(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	list := func(t *testing.T, customerID string, params client.ListCustomerGrantsParams, auth client.RequestEditorFn) *client.ListCustomerGrantsResponse {
		t.Helper()
		res, err := e.C.ListCustomerGrantsWithResponse(e.Ctx, customerID, &params, auth)
		require.NoError(t, err)
		return res
	}
	w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
	welcome := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 500, time.Hour, false)
	dying := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 200, time.Minute, false)
	latest := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 300, 2*time.Hour, false)
	e.S.Clock.Advance(2 * time.Minute) // this test owns its server

	t.Run("ListsNewestFirstWithHistoryAndExpiresLazily", func(t *testing.T) {
		res := list(t, w.CustomerID, client.ListCustomerGrantsParams{}, e.AsAdmin())
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		items := res.JSON200.Data.Items
		require.Len(t, items, 3)
		require.Equal(t, []string{latest.ID, dying.ID, welcome.ID}, []string{items[0].Id, items[1].Id, items[2].Id})
		require.Equal(t, client.GrantStateExpired, items[1].State, "expired before the read")
		require.Len(t, items[1].History, 2)
		require.Equal(t, client.GrantStateAvailable, *items[1].History[1].FromState)
		require.Equal(t, "expired", items[1].History[1].Reason)
		require.NotNil(t, items[1].History[1].TransactionId)
		require.Nil(t, items[1].History[0].FromState)
	})
	t.Run("FiltersByStateAndPages", func(t *testing.T) {
		res := list(t, w.CustomerID, client.ListCustomerGrantsParams{State: moneytest.Ptr(client.GrantStateAvailable), Limit: moneytest.Ptr(1)}, e.AsAdmin())
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, latest.ID, res.JSON200.Data.Items[0].Id)
		require.True(t, res.JSON200.Data.HasMore)
		next := list(t, w.CustomerID, client.ListCustomerGrantsParams{State: moneytest.Ptr(client.GrantStateAvailable), Limit: moneytest.Ptr(1), Cursor: res.JSON200.Data.NextCursor}, e.AsAdmin())
		require.Equal(t, http.StatusOK, next.StatusCode(), "body: %s", next.Body)
		require.Equal(t, welcome.ID, next.JSON200.Data.Items[0].Id)
		require.False(t, next.JSON200.Data.HasMore)

		// A cursor of the available listing is not one of the expired listing.
		bad := list(t, w.CustomerID, client.ListCustomerGrantsParams{State: moneytest.Ptr(client.GrantStateExpired), Cursor: res.JSON200.Data.NextCursor}, e.AsAdmin())
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, bad.StatusCode(), bad.Body)
		require.Equal(t, "/query/cursor", *got.Field)
	})
	t.Run("NotFoundForAnUnknownOrForeignCustomer", func(t *testing.T) {
		res := list(t, ids.New(ids.Customer), client.ListCustomerGrantsParams{}, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		other := moneytest.On(t, e.S, "Other Merchant")
		res = list(t, w.CustomerID, client.ListCustomerGrantsParams{}, other.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})
	t.Run("ForbiddenWithoutGrantsRead", func(t *testing.T) {
		key := e.NewKey(t, "", client.ScopeTopupWrite, client.ScopeTokensIssue)
		res := list(t, w.CustomerID, client.ListCustomerGrantsParams{}, moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		reader := e.NewKey(t, "", client.ScopeGrantsRead, client.ScopeTokensIssue)
		jwt := e.Mint(t, reader, "till-04", client.ScopeGrantsRead)
		res = list(t, w.CustomerID, client.ListCustomerGrantsParams{}, moneytest.Bearer(jwt))
		require.Equal(t, http.StatusOK, res.StatusCode(), "a terminal token with grants:read may list")
	})
}

func TestClawbackGrantE2E(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	claw := func(t *testing.T, id string, auth client.RequestEditorFn) *client.ClawbackGrantResponse {
		t.Helper()
		res, err := e.C.ClawbackGrantWithResponse(e.Ctx, id, &client.ClawbackGrantParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.ClawbackGrantInput{Meta: moneytest.Meta(), Context: &client.RequestContext{OperatorId: moneytest.Ptr("risk-team-1")},
				Data: client.ClawbackGrantInputData{Reason: client.ClawbackReasonVoidedTopup, Note: moneytest.Ptr("charged back")}}, auth)
		require.NoError(t, err)
		return res
	}

	t.Run("ClawsBackTheRemainingPromoOnly", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 12000})
		g := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 1000, time.Hour, false)
		res := claw(t, g.ID, e.AsAdmin())
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		got := res.JSON200.Data
		require.Equal(t, client.GrantStateClawedBack, got.Grant.State)
		require.Zero(t, got.Grant.RemainingMinor)
		require.Equal(t, client.TransactionTypePromoClawback, got.Transaction.Type)
		require.Equal(t, int64(1000), got.Transaction.AmountMinor)
		require.Equal(t, int64(-1000), got.Transaction.PromoDeltaMinor)
		require.Zero(t, got.Transaction.ActualDeltaMinor)
		require.Equal(t, int64(12000), got.Transaction.BalanceAfter.ActualMinor, "actual money is never touched")
		require.Equal(t, g.ID, *got.Transaction.References.GrantId)
		require.Equal(t, "risk-team-1", *got.Transaction.Context.OperatorId)
		last := got.Grant.History[len(got.Grant.History)-1]
		require.Equal(t, "clawback", last.Reason)
		require.Equal(t, got.Transaction.Id, *last.TransactionId)
	})
	t.Run("GrantStateConflictOnAFinalGrant", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		g := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 1000, time.Hour, true)
		require.Equal(t, http.StatusOK, claw(t, g.ID, e.AsAdmin()).StatusCode())
		res := claw(t, g.ID, e.AsAdmin())
		got := moneytest.RequireCode(t, http.StatusConflict, client.ErrorCodeGrantStateConflict, res.StatusCode(), res.Body)
		require.Equal(t, "clawed_back", (*got.Details)["state"])
	})
	t.Run("NotFoundForAnUnknownOrForeignGrant", func(t *testing.T) {
		t.Parallel()
		res := claw(t, ids.New(ids.Grant), e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		other := moneytest.On(t, e.S, "Other Merchant")
		w := moneytest.Wallet(t, e.S.Pool, other.Tenant, moneytest.WalletOpts{})
		g := moneytest.Grant(t, e.S.Pool, other.Tenant, w.ID, 1000, time.Hour, false)
		res = claw(t, g.ID, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})
	t.Run("ForbiddenUnlessAnOperatorKey", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		g := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 1000, time.Hour, false)
		integrationRole := e.NewKey(t, "", client.ScopeGrantsClawback)
		res := claw(t, g.ID, moneytest.Key(integrationRole))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		noScope := e.NewKey(t, client.ApiKeyRoleOperator, client.ScopeGrantsRead)
		res = claw(t, g.ID, moneytest.Key(noScope))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		jwt := e.Mint(t, e.Admin, "till-04", client.ScopeGrantsClawback)
		res = claw(t, g.ID, moneytest.Bearer(jwt))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		operator := e.NewKey(t, client.ApiKeyRoleOperator, client.ScopeGrantsClawback)
		require.Equal(t, http.StatusOK, claw(t, g.ID, moneytest.Key(operator)).StatusCode())
	})
}

// The sweeper runs as a River periodic job of the served app: a due grant
// expires with nobody reading the wallet.
func TestSweeperJobE2E(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
	g := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 500, time.Minute, false)
	e.S.Clock.Advance(2 * time.Minute)
	e.S.StartJobs(t)
	require.Eventually(t, func() bool {
		var state string
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT state FROM grants WHERE id = $1`, g.ID).Scan(&state))
		return state == "expired"
	}, 15*time.Second, 50*time.Millisecond)
	moneytest.CheckLedger(t, e.S.Pool)
}
