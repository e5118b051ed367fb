package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
)

// The cost of a payment at the till (issue 7): a QR payment with automatic
// capture is ONE ledger posting, its guess gate rides in the statement
// that uses the code, and the whole request is one transaction. These
// budgets keep the counts from creeping up unnoticed.
func TestPaymentStatementBudget(t *testing.T) {
	t.Parallel()
	s, log := apptest.StartTraced(t)
	e := &payEnv{Env: moneytest.On(t, s, "Merchant"), t: t}
	w := e.wallet(10_000)
	e.mint(w.ID) // warm-up: the key's last_used_at is written once

	var m minted
	sqls := log.Record(func() { m = e.mint(w.ID) })
	require.Equal(t, []string{
		"begin", "ApiKeyGetForAuthBySecretHash", "IdempotencyKeyClaim",
		"SAVEPOINT", "QrTokenMint",
		"IdempotencyKeyInsert", "commit",
	}, sqls, "a mint retires the wallet's earlier codes and issues the new one in one statement")

	var res *client.CreatePaymentResponse
	sqls = log.Record(func() { res = e.payQR(m.ShortCode, 2500) })
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.Equal(t, []string{
		"begin", "ApiKeyGetForAuthBySecretHash", "IdempotencyKeyClaim",
		"SAVEPOINT", "QrTokenUseByShortCode", "WalletGetForUpdate", "LedgerPost", "PaymentInsert", "EventInsert",
		"IdempotencyKeyInsert", "commit",
	}, sqls, "a payment without promo: gate and use in one statement, one posting, its event")
}
