package topup_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/ids"
)

func sellSku(t *testing.T, e *moneytest.Env, sku, walletID string, qty int, auth client.RequestEditorFn) *client.CreateSkuTopupResponse {
	t.Helper()
	if auth == nil {
		auth = e.AsAdmin()
	}
	res, err := e.C.CreateSkuTopupWithResponse(e.Ctx, sku, &client.CreateSkuTopupParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateSkuTopupInput{Meta: moneytest.Meta(), Context: &client.RequestContext{TerminalId: moneytest.Ptr("till-04")},
			Data: client.CreateSkuTopupInputData{WalletId: walletID, Quantity: qty, PosReference: moneytest.Ptr("rcpt-0042")}}, auth)
	require.NoError(t, err)
	return res
}

func gift(id, currency string, face, bonus int64, active bool) client.UpsertSkuInputData {
	return client.UpsertSkuInputData{SkuId: id, Currency: currency, FaceValueMinor: face, BonusMinor: bonus, BonusExpiresInDays: 90, Active: active}
}

func TestCreateSkuTopup(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	e.UpsertSku(t, gift("GIFT-50", "EUR", 5000, 500, true))
	e.UpsertSku(t, gift("GIFT-20", "EUR", 2000, 0, true))
	e.UpsertSku(t, gift("OLD-10", "EUR", 1000, 0, false))
	e.UpsertSku(t, gift("USD-50", "USD", 5000, 0, true))

	t.Run("CreditsFaceValueTimesQuantityAndTheBonus", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		res := sellSku(t, e, "GIFT-50", w.ID, 2, nil)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		got := res.JSON200.Data
		require.Equal(t, client.TransactionTypeSkuTopup, got.Transaction.Type)
		require.Equal(t, int64(10000), got.Transaction.AmountMinor)
		require.Equal(t, "GIFT-50", *got.Transaction.References.SkuId)
		require.Nil(t, got.Transaction.References.SettlementReference)
		require.Equal(t, client.GrantSourceSkuBonus, got.BonusGrant.Source)
		require.Equal(t, "GIFT-50", *got.BonusGrant.SourceRef)
		require.Equal(t, int64(1000), got.BonusGrant.OriginalMinor)
		require.Equal(t, int64(10000), got.Wallet.Balance.ActualMinor)
		require.Equal(t, int64(1000), got.Wallet.Balance.PromoAvailableMinor)
	})
	t.Run("NoGrantWithoutABonus", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: true})
		res := sellSku(t, e, "GIFT-20", w.ID, 1, nil)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Nil(t, res.JSON200.Data.BonusGrant)
	})
	t.Run("SkuNotFoundForAnUnknownOrInactiveSku", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		for _, sku := range []string{"GIFT-99", "OLD-10"} {
			res := sellSku(t, e, sku, w.ID, 1, nil)
			moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeSkuNotFound, res.StatusCode(), res.Body)
		}
	})
	t.Run("ValidationFailedForAWalletInAnotherCurrency", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		res := sellSku(t, e, "USD-50", w.ID, 1, nil)
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/wallet_id", *got.Field)
	})
	t.Run("NotFoundForAnUnknownWallet", func(t *testing.T) {
		t.Parallel()
		res := sellSku(t, e, "GIFT-50", ids.New(ids.Wallet), 1, nil)
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})
	t.Run("AmountInvalidAboveTheCeiling", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 1_000_000_000_000 - 9999})
		res := sellSku(t, e, "GIFT-50", w.ID, 2, nil)
		moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid, res.StatusCode(), res.Body)
	})
	t.Run("ForbiddenWithoutTopupWrite", func(t *testing.T) {
		t.Parallel()
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		key := e.NewKey(t, "", client.ScopeConfigWrite)
		res := sellSku(t, e, "GIFT-50", w.ID, 1, moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
	})
}

func TestReloadBonusConfig(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	set := func(t *testing.T, data client.SetReloadBonusConfigInputData, auth client.RequestEditorFn) *client.SetReloadBonusConfigResponse {
		t.Helper()
		res, err := e.C.SetReloadBonusConfigWithResponse(e.Ctx, &client.SetReloadBonusConfigParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.SetReloadBonusConfigInput{Meta: moneytest.Meta(), Data: data}, auth)
		require.NoError(t, err)
		return res
	}
	get := func(t *testing.T, currency string, auth client.RequestEditorFn) *client.GetReloadBonusConfigResponse {
		t.Helper()
		res, err := e.C.GetReloadBonusConfigWithResponse(e.Ctx, &client.GetReloadBonusConfigParams{Currency: currency}, auth)
		require.NoError(t, err)
		return res
	}

	t.Run("VersionsEveryChangeAndReadsTheCurrentOne", func(t *testing.T) {
		res := get(t, "EUR", e.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)

		data := tiers()
		data.Tiers[0], data.Tiers[1] = data.Tiers[1], data.Tiers[0] // sent unsorted
		v1 := e.SetReloadBonus(t, data)
		require.Equal(t, 1, v1.Version)
		require.Equal(t, int64(2000), v1.Tiers[0].MinTopupMinor, "tiers come back ascending")
		require.Equal(t, int64(100), *v1.Tiers[0].BonusFixedMinor)
		require.Nil(t, v1.Tiers[0].BonusBps)
		require.Equal(t, 1000, *v1.Tiers[1].BonusBps)

		data.Active = false
		v2 := e.SetReloadBonus(t, data)
		require.Equal(t, 2, v2.Version)
		topupOnly := e.NewKey(t, "", client.ScopeTopupWrite)
		res = get(t, "EUR", moneytest.Key(topupOnly))
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Equal(t, v2, res.JSON200.Data)

		var versions int
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM reload_bonus_configs WHERE merchant_id = $1`, e.Tenant.MerchantID).Scan(&versions))
		require.Equal(t, 2, versions, "history is kept")

		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		require.Nil(t, e.MustTopup(t, moneytest.Topup{WalletID: w.ID, Amount: 9000}).BonusGrant, "inactive: no bonus")
	})

	t.Run("ValidationFailed", func(t *testing.T) {
		for name, c := range map[string]struct {
			tiers []client.ReloadBonusTierInput
			field string
		}{
			"BothKinds":        {[]client.ReloadBonusTierInput{{MinTopupMinor: 1}, {MinTopupMinor: 2, BonusBps: moneytest.Ptr(5), BonusFixedMinor: moneytest.Ptr[int64](5)}}, "/data/tiers/0"},
			"CapOnAFixedBonus": {[]client.ReloadBonusTierInput{{MinTopupMinor: 2, BonusFixedMinor: moneytest.Ptr[int64](5), MaxBonusMinor: moneytest.Ptr[int64](9)}}, "/data/tiers/0/max_bonus_minor"},
			"DuplicateMinimum": {[]client.ReloadBonusTierInput{{MinTopupMinor: 2, BonusFixedMinor: moneytest.Ptr[int64](5)}, {MinTopupMinor: 2, BonusBps: moneytest.Ptr(5)}}, "/data/tiers/1/min_topup_minor"},
		} {
			t.Run(name, func(t *testing.T) {
				data := tiers()
				data.Tiers = c.tiers
				res := set(t, data, e.AsAdmin())
				got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
				require.Equal(t, c.field, *got.Field)
			})
		}
	})

	t.Run("CurrencyNotSupported", func(t *testing.T) {
		data := tiers()
		data.Currency = "CHF"
		res := set(t, data, e.AsAdmin())
		moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported, res.StatusCode(), res.Body)
		got := get(t, "CHF", e.AsAdmin())
		moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported, got.StatusCode(), got.Body)
	})

	t.Run("Forbidden", func(t *testing.T) {
		key := e.NewKey(t, "", client.ScopeTopupWrite)
		res := set(t, tiers(), moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		other := e.NewKey(t, "", client.ScopeConfigWrite)
		got := get(t, "EUR", moneytest.Key(other))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, got.StatusCode(), got.Body)
	})

	t.Run("AnotherMerchantSeesNothing", func(t *testing.T) {
		other := moneytest.On(t, e.S, "Other Merchant")
		res := get(t, "EUR", other.AsAdmin())
		moneytest.RequireCode(t, http.StatusNotFound, client.ErrorCodeNotFound, res.StatusCode(), res.Body)
	})
}

func TestSkuCatalog(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	upsert := func(t *testing.T, data client.UpsertSkuInputData, auth client.RequestEditorFn) *client.UpsertSkuResponse {
		t.Helper()
		res, err := e.C.UpsertSkuWithResponse(e.Ctx, &client.UpsertSkuParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.UpsertSkuInput{Meta: moneytest.Meta(), Data: data}, auth)
		require.NoError(t, err)
		return res
	}
	list := func(t *testing.T, params client.ListSkusParams, auth client.RequestEditorFn) *client.ListSkusResponse {
		t.Helper()
		res, err := e.C.ListSkusWithResponse(e.Ctx, &params, auth)
		require.NoError(t, err)
		return res
	}

	t.Run("UpsertCreatesThenReplaces", func(t *testing.T) {
		first := e.UpsertSku(t, gift("GIFT-50", "EUR", 5000, 500, true))
		second := e.UpsertSku(t, gift("GIFT-50", "USD", 4000, 0, false))
		require.Equal(t, "USD", second.Currency, "never sold: the currency may change")
		require.Equal(t, int64(4000), second.FaceValueMinor)
		require.False(t, second.Active)
		require.True(t, second.UpdatedAt.After(first.UpdatedAt))
	})

	t.Run("ValidationFailedWhenASoldSkuChangesCurrency", func(t *testing.T) {
		e.UpsertSku(t, gift("SOLD-1", "EUR", 1000, 0, true))
		w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})
		require.Equal(t, http.StatusOK, sellSku(t, e, "SOLD-1", w.ID, 1, nil).StatusCode())
		res := upsert(t, gift("SOLD-1", "USD", 1000, 0, true), e.AsAdmin())
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/data/currency", *got.Field)
		e.UpsertSku(t, gift("SOLD-1", "EUR", 1500, 100, false)) // everything else may change
	})

	t.Run("CurrencyNotSupported", func(t *testing.T) {
		res := upsert(t, gift("CHF-1", "CHF", 1000, 0, true), e.AsAdmin())
		moneytest.RequireCode(t, http.StatusUnprocessableEntity, client.ErrorCodeCurrencyNotSupported, res.StatusCode(), res.Body)
	})

	t.Run("ListPagesNewestFirst", func(t *testing.T) {
		other := moneytest.On(t, e.S, "Other Merchant")
		other.UpsertSku(t, gift("THEIRS", "EUR", 1000, 0, true))
		for _, id := range []string{"P-1", "P-2", "P-3"} {
			e.UpsertSku(t, gift(id, "EUR", 1000, 0, true))
		}
		seen := []string{}
		params := client.ListSkusParams{Limit: moneytest.Ptr(2)}
		for {
			res := list(t, params, e.AsAdmin())
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			for _, s := range res.JSON200.Data.Items {
				seen = append(seen, s.SkuId)
			}
			if !res.JSON200.Data.HasMore {
				require.Nil(t, res.JSON200.Data.NextCursor)
				break
			}
			params.Cursor = res.JSON200.Data.NextCursor
		}
		require.Equal(t, []string{"P-3", "P-2", "P-1"}, seen[:3])
		require.NotContains(t, seen, "THEIRS")

		res := list(t, client.ListSkusParams{Cursor: moneytest.Ptr("bm90LWEtY3Vyc29y")}, e.AsAdmin())
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode(), res.Body)
		require.Equal(t, "/query/cursor", *got.Field)
	})

	t.Run("Forbidden", func(t *testing.T) {
		key := e.NewKey(t, "", client.ScopeTopupWrite)
		res := upsert(t, gift("X-1", "EUR", 1000, 0, true), moneytest.Key(key))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, res.StatusCode(), res.Body)
		cfgOnly := e.NewKey(t, "", client.ScopeConfigWrite)
		got := list(t, client.ListSkusParams{}, moneytest.Key(cfgOnly))
		moneytest.RequireCode(t, http.StatusForbidden, client.ErrorCodeForbidden, got.StatusCode(), got.Body)
	})
}
