package transactions_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
)

func TestTransactionsE2E(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	list := func(t *testing.T, integrationID string, params client.ListTransactionsParams, auth client.RequestEditorFn) *client.ListTransactionsResponse {
		t.Helper()
		res, err := e.C.ListTransactionsWithResponse(e.Ctx, integrationID, &params, auth)
		require.NoError(t, err)
		return res
	}
	get := func(t *testing.T, integrationID, id string, auth client.RequestEditorFn) *client.GetTransactionResponse {
		t.Helper()
		res, err := e.C.GetTransactionWithResponse(e.Ctx, integrationID, id, &client.GetTransactionParams{}, auth)
		require.NoError(t, err)
		return res
	}
	own := e.Tenant.IntegrationID
	w1 := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
	w2 := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
	start := time.Now().Add(-time.Second)
	first := e.MustTopup(t, moneytest.Topup{WalletID: w1.ID, Amount: 100})
	e.MustTopup(t, moneytest.Topup{WalletID: w2.ID, Amount: 200})
	g := moneytest.Grant(t, e.S.Pool, e.Tenant, w1.ID, 50, time.Hour, false)
	// Another integration of the merchant books on the same wallet.
	otherID, otherKey := e.OtherIntegration(t)
	e.MustTopup(t, moneytest.Topup{WalletID: w1.ID, Amount: 300, AuthEditor: moneytest.Key(otherKey)})

	t.Run("ListsTheIntegrationsTransactionsNewestFirst", func(t *testing.T) {
		res := list(t, own, client.ListTransactionsParams{}, e.AsAdmin())
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		items := res.JSON200.Data.Items
		require.Len(t, items, 3, "not the other integration's")
		require.Equal(t, client.TransactionTypePromoGrant, items[0].Type)
		require.Equal(t, g.ID, *items[0].References.GrantId)
		require.Equal(t, first.Transaction.Id, items[2].Id)
		require.False(t, res.JSON200.Data.HasMore)
		theirs := list(t, otherID, client.ListTransactionsParams{}, moneytest.Key(otherKey))
		require.Len(t, theirs.JSON200.Data.Items, 1)
	})
	t.Run("Filters", func(t *testing.T) {
		count := func(p client.ListTransactionsParams) int {
			res := list(t, own, p, e.AsAdmin())
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			return len(res.JSON200.Data.Items)
		}
		require.Equal(t, 2, count(client.ListTransactionsParams{WalletId: &w1.ID}))
		require.Equal(t, 1, count(client.ListTransactionsParams{CustomerId: &w2.CustomerID}))
		require.Equal(t, 2, count(client.ListTransactionsParams{Type: moneytest.Ptr(client.TransactionTypeTopup)}))
		require.Equal(t, 1, count(client.ListTransactionsParams{Type: moneytest.Ptr(client.TransactionTypeTopup), WalletId: &w1.ID}))
		require.Equal(t, 3, count(client.ListTransactionsParams{CreatedAfter: &start}))
		require.Equal(t, 0, count(client.ListTransactionsParams{CreatedBefore: &start}))
		require.Equal(t, 3, count(client.ListTransactionsParams{CreatedAfter: &start, CreatedBefore: moneytest.Ptr(time.Now().Add(time.Minute))}))
		res := list(t, own, client.ListTransactionsParams{CreatedAfter: moneytest.Ptr(time.Now()), CreatedBefore: &start}, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
	})
	t.Run("PagesStablyWhileTransactionsAreBooked", func(t *testing.T) {
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		want := map[string]bool{}
		for range 5 {
			want[e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1}).Transaction.Id] = true
		}
		seen := map[string]bool{}
		params := client.ListTransactionsParams{WalletId: &w.ID, Limit: moneytest.Ptr(2)}
		for {
			res := list(t, own, params, e.AsAdmin())
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			for _, it := range res.JSON200.Data.Items {
				require.False(t, seen[it.Id], "no transaction on two pages")
				seen[it.Id] = true
			}
			// New bookings land before the cursor: they never shift a page.
			e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1})
			if !res.JSON200.Data.HasMore {
				break
			}
			params.Cursor = res.JSON200.Data.NextCursor
		}
		for id := range want {
			require.True(t, seen[id], "every transaction older than the first page is listed")
		}
	})
	t.Run("RefusesATamperedOrForeignCursor", func(t *testing.T) {
		res := list(t, own, client.ListTransactionsParams{Limit: moneytest.Ptr(1)}, e.AsAdmin())
		cursor := *res.JSON200.Data.NextCursor
		for _, bad := range []string{cursor[:len(cursor)-2] + "AA", "eyJ0IjoiMjAyNi0wNi0wMVQwOTo0MjowMFoifQ"} {
			got := list(t, own, client.ListTransactionsParams{Cursor: &bad}, e.AsAdmin())
			moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, got.StatusCode(), got.Body)
		}
		// A cursor is bound to its filters.
		got := list(t, own, client.ListTransactionsParams{Cursor: &cursor, WalletId: &w2.ID}, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, got.StatusCode(), got.Body)
	})
	t.Run("GetAddsBalancedEntries", func(t *testing.T) {
		res := get(t, own, first.Transaction.Id, e.AsAdmin())
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		d := res.JSON200.Data
		require.Equal(t, first.Transaction.Id, d.Id)
		require.Len(t, d.Entries, 2)
		var sum int64
		for _, en := range d.Entries {
			sum += en.AmountMinor
			require.Equal(t, "EUR", en.Currency)
		}
		require.Zero(t, sum)
		require.Equal(t, "wallet:"+w1.ID+":actual", d.Entries[1].Account)
		require.Equal(t, "merchant:"+e.Tenant.MerchantID+":topup_clearing:adyen", d.Entries[0].Account)
	})
	t.Run("NotFound", func(t *testing.T) {
		res := get(t, own, ids.New(ids.Transaction), e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		// Another integration's transaction, through one's own path.
		theirs := list(t, otherID, client.ListTransactionsParams{}, moneytest.Key(otherKey)).JSON200.Data.Items[0].Id
		res = get(t, own, theirs, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		// Another integration's path.
		res = get(t, otherID, theirs, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		lst := list(t, otherID, client.ListTransactionsParams{}, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, lst.StatusCode(), lst.Body)
		// Another merchant.
		other := moneytest.On(t, e.S, "Other Merchant")
		lst = list(t, own, client.ListTransactionsParams{}, other.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, lst.StatusCode(), lst.Body)
	})
	t.Run("ForbiddenWithoutTransactionsRead", func(t *testing.T) {
		key := e.NewKey(t, "", client.ScopeTopupWrite, client.ScopeTokensIssue)
		res := list(t, own, client.ListTransactionsParams{}, moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		got := get(t, own, first.Transaction.Id, moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, got.StatusCode(), got.Body)
		reader := e.NewKey(t, "", client.ScopeTransactionsRead, client.ScopeTokensIssue)
		jwt := e.Mint(t, reader, "till-04", client.ScopeTransactionsRead)
		require.Equal(t, http.StatusOK, list(t, own, client.ListTransactionsParams{}, moneytest.Bearer(jwt)).StatusCode())
	})
}
