package httpapi_test

import (
	"context"
	"net/http"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
)

// Helpers of the payment edge-case tests (issue 8, section 7), each of
// which performs its case through the API. Time moves by rewriting
// timestamps in SQL.

// authorizeManual pays amount from the wallet with capture manual and
// returns the authorized payment.
func (e *payEnv) authorizeManual(walletID string, amount int64) client.Payment {
	e.t.Helper()
	manual := client.CaptureModeManual
	res := e.payQR(e.mint(walletID).QrPayload, amount, func(d *client.CreatePaymentInputData) { d.Capture = &manual })
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.Equal(e.t, client.PaymentStatusAuthorized, res.JSON200.Data.Status)
	return res.JSON200.Data
}

func (e *payEnv) payment(id string) client.Payment {
	e.t.Helper()
	res, err := e.C.GetPaymentWithResponse(e.Ctx, id, &client.GetPaymentParams{}, e.AsAdmin())
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

// grant reads a grant of the customer through GET /customers/{id}/grants.
func (e *payEnv) grant(customerID, grantID string) client.Grant {
	e.t.Helper()
	res, err := e.C.ListCustomerGrantsWithResponse(e.Ctx, customerID, &client.ListCustomerGrantsParams{}, e.AsAdmin())
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	for _, g := range res.JSON200.Data.Items {
		if g.Id == grantID {
			return g
		}
	}
	e.t.Fatalf("grant %s not listed", grantID)
	return client.Grant{}
}

// accountTotal is the balance of a system account (the sum of its entries).
func (e *payEnv) accountTotal(account string) int64 {
	e.t.Helper()
	var total int64
	require.NoError(e.t, e.S.Pool.QueryRow(context.Background(),
		`SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE account = $1`, account).Scan(&total))
	return total
}

func (e *payEnv) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.S.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// grantOf is the id of the wallet's only grant.
func (e *payEnv) grantOf(walletID string) string {
	e.t.Helper()
	var id string
	require.NoError(e.t, e.S.Pool.QueryRow(context.Background(), `SELECT id FROM grants WHERE wallet_id = $1`, walletID).Scan(&id))
	return id
}
