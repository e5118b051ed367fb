package topup_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
)

// Every round trip inside the wallet's lock is latency for every top-up
// queued behind it: this test keeps the count of a top-up with a bonus
// from creeping up unnoticed.
func TestTopupStatementBudget(t *testing.T) {
	t.Parallel()
	s, log := apptest.StartTraced(t)
	e := moneytest.On(t, s, "Merchant")
	e.SetReloadBonus(t, tiers())
	w := moneytest.Wallet(t, s.Pool, e.Tenant, moneytest.WalletOpts{})
	topup := func(key string) *client.ConfirmTopupResponse {
		res, err := e.C.ConfirmTopupWithResponse(e.Ctx, &client.ConfirmTopupParams{IdempotencyKey: key}, client.ConfirmTopupInput{Meta: moneytest.Meta(),
			Data: client.ConfirmTopupInputData{WalletId: w.ID, AmountMinor: 5000, Currency: "EUR", Provider: "adyen", SettlementReference: key}}, e.AsAdmin())
		require.NoError(t, err)
		return res
	}
	topup("warm-up") // the key's last_used_at is written once

	var res *client.ConfirmTopupResponse
	sqls := log.Record(func() { res = topup("measured") })
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.NotNil(t, res.JSON200.Data.BonusGrant)

	// The whole request, in one transaction: the credential, the key's
	// claim, then the top-up's own work in a savepoint (never released: the
	// commit does it), the wallet's lock held from WalletGetForUpdate to the
	// commit. The events (grant.issued, topup.confirmed) are written in the
	// same transaction, one statement each.
	require.Equal(t, []string{
		"begin", "ApiKeyGetForAuthBySecretHash", "IdempotencyKeyClaim",
		"SAVEPOINT", "ReloadBonusConfigCurrent", "WalletGetForUpdate", "LedgerPost", "GrantInsert", "LedgerPost",
		"EventInsert", "EventInsert", "IdempotencyKeyInsert", "commit",
	}, sqls)
}
