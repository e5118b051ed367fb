package topup_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
)

func tiers() client.SetReloadBonusConfigInputData {
	return client.SetReloadBonusConfigInputData{
		Currency: "EUR", BonusExpiresInDays: 90, Active: true,
		Tiers: []client.ReloadBonusTierInput{
			{MinTopupMinor: 2000, BonusFixedMinor: moneytest.Ptr[int64](100)},
			{MinTopupMinor: 5000, BonusBps: moneytest.Ptr(1000), MaxBonusMinor: moneytest.Ptr[int64](1000)},
		},
	}
}

func TestConfirmTopup(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	e.SetReloadBonus(t, tiers())

	t.Run("CreditsActualAndAccruesTheReloadBonus", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		got := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 5000, Reference: "8835512479931042",
			Context: &client.RequestContext{TerminalId: moneytest.Ptr("till-04"), LocationId: moneytest.Ptr("berlin"), OperatorId: moneytest.Ptr("cashier-117")}})
		txn := got.Transaction
		require.Equal(t, client.TransactionTypeTopup, txn.Type)
		require.Equal(t, int64(5000), txn.AmountMinor)
		require.Equal(t, int64(5000), txn.ActualDeltaMinor)
		require.Zero(t, txn.PromoDeltaMinor)
		require.Equal(t, int64(5000), txn.BalanceAfter.ActualMinor)
		require.Equal(t, "8835512479931042", *txn.References.SettlementReference)
		require.Equal(t, "adyen", *txn.References.Provider)
		require.Equal(t, "till-04", *txn.Context.TerminalId)
		require.Equal(t, "cashier-117", *txn.Context.OperatorId)
		require.Equal(t, e.Tenant.IntegrationID, txn.IntegrationId)

		require.NotNil(t, got.BonusGrant)
		g := got.BonusGrant
		require.Equal(t, client.GrantSourceReloadBonus, g.Source)
		require.Equal(t, txn.Id, *g.SourceRef)
		require.Equal(t, int64(500), g.OriginalMinor)
		require.Equal(t, client.GrantStateAvailable, g.State)
		require.WithinDuration(t, time.Now().AddDate(0, 0, 90), g.ExpiresAt, time.Minute)
		require.Len(t, g.History, 1)

		b := got.Wallet.Balance
		require.Equal(t, int64(5000), b.ActualMinor)
		require.Equal(t, int64(500), b.PromoAvailableMinor)
		require.Equal(t, int64(5500), b.SpendableMinor)
		require.Equal(t, g.ExpiresAt, *b.NextPromoExpiryAt)
	})

	t.Run("LocksTheBonusOfAPendingWallet", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: true})
		got := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 2000})
		require.Equal(t, client.GrantStateLocked, got.BonusGrant.State)
		require.Equal(t, client.WalletStatusPendingProof, got.Wallet.Status)
		require.Equal(t, int64(100), got.Wallet.Balance.PromoLockedMinor)
		require.Equal(t, int64(2000), got.Wallet.Balance.SpendableMinor)
	})

	t.Run("NoBonusBelowTheFirstTier", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		got := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1999})
		require.Nil(t, got.BonusGrant)
		require.Zero(t, got.Wallet.Balance.PromoAvailableMinor)
	})

	t.Run("ATerminalTokensTerminalWins", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		jwt := e.Mint(t, e.Admin, "till-jwt", client.ScopeTopupWrite)
		got := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, AuthEditor: moneytest.Bearer(jwt),
			Context: &client.RequestContext{TerminalId: moneytest.Ptr("till-body"), LocationId: moneytest.Ptr("berlin")}})
		require.Equal(t, "till-jwt", *got.Transaction.Context.TerminalId)
		require.Equal(t, "berlin", *got.Transaction.Context.LocationId)
	})

	t.Run("ARetryWithTheSameKeyReplaysWithoutCreditingTwice", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		tp := moneytest.Topup{Key: moneytest.NewIdemKey(), WalletID: w.ID, Amount: 700, Reference: "retry-1"}
		first := e.ConfirmTopup(t, tp)
		again := e.ConfirmTopup(t, tp)
		require.Equal(t, http.StatusOK, again.StatusCode())
		require.True(t, again.JSON200.Meta.IdempotentReplay)
		require.Equal(t, first.JSON200.Data, again.JSON200.Data)
		require.Equal(t, "true", again.HTTPResponse.Header.Get("Idempotent-Replayed"))
		next := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1})
		require.Equal(t, int64(701), next.Wallet.Balance.ActualMinor)
	})

	t.Run("SettlementReferenceAlreadyUsed", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		first := e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, Reference: "dup-1"})
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, Reference: "dup-1"})
		got := moneytest.RequireCode(t, http.StatusConflict, client.ErrorCodeSettlementReferenceAlreadyUsed, res.StatusCode(), res.Body)
		require.Equal(t, first.Transaction.Id, (*got.Details)["transaction_id"])
		require.Equal(t, "/data/settlement_reference", *got.Field)
		// Another provider may reuse the reference.
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, Reference: "dup-1", Provider: "stripe"})
		// Stored with the key: a retry of the refused request replays the refusal.
	})

	t.Run("ValidationFailedForAnotherCurrencyThanTheWallets", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, Currency: "USD"})
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/currency", *got.Field)
	})

	t.Run("CurrencyNotSupported", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, Currency: "CHF"})
		got := moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported, res.StatusCode(), res.Body)
		require.Equal(t, "/data/currency", *got.Field)
	})

	t.Run("AmountInvalidAboveTheCeiling", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Currency: "JPY"})
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1_000_000_000_000, Currency: "JPY"})
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1, Currency: "JPY"})
		got := moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid, res.StatusCode(), res.Body)
		require.Equal(t, "/data/amount_minor", *got.Field)
	})

	t.Run("NotFoundForAnUnknownOrForeignWallet", func(t *testing.T) {
		t.Parallel()
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: ids.New(ids.Wallet), Amount: 100})
		unknown := moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		other := moneytest.On(t, e.S, "Other Merchant")
		foreign := moneytest.Wallet(t, e.S.Pool, other.Tenant, moneytest.WalletOpts{})
		res = e.ConfirmTopup(t, moneytest.Topup{WalletID: foreign.ID, Amount: 100})
		got := moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
		require.Equal(t, unknown.Message, got.Message, "a foreign wallet looks exactly like a missing one")
	})

	t.Run("ForbiddenWithoutTopupWrite", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		key := e.NewKey(t, "", client.ScopeTransactionsRead, client.ScopeTokensIssue)
		res := e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, AuthEditor: moneytest.Key(key)})
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		jwt := e.Mint(t, e.Admin, "till-04", client.ScopeTransactionsRead)
		res = e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, AuthEditor: moneytest.Bearer(jwt)})
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		res = e.ConfirmTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 100, AuthEditor: moneytest.Key("fk_live_nope")})
		moneytest.RequireCode(t, http.StatusUnauthorized, client.ErrorCodeUnauthenticated, res.StatusCode(), res.Body)
	})
}
