package moneytest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
)

// APIError reads the error envelope of a failed call.
func APIError(t testing.TB, body []byte) client.Error {
	t.Helper()
	var env client.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	return env.Error
}

// RequireCode asserts a failed call's status and error code and returns the error.
func RequireCode(t testing.TB, wantStatus int, want client.ErrorCode, status int, body []byte) client.Error {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %s", body)
	e := APIError(t, body)
	require.Equal(t, want, e.Code, "body: %s", body)
	return e
}

// Topup is a POST /topup/confirm request.
type Topup struct {
	Key        string // Idempotency-Key; fresh when empty
	WalletID   string
	Amount     int64
	Currency   string // EUR when empty
	Provider   string // adyen when empty
	Reference  string // fresh when empty
	Context    *client.RequestContext
	AuthEditor client.RequestEditorFn // the admin key when nil
}

// ConfirmTopup sends a top-up.
func (e *Env) ConfirmTopup(t testing.TB, tp Topup) *client.ConfirmTopupResponse {
	t.Helper()
	if tp.Key == "" {
		tp.Key = NewIdemKey()
	}
	if tp.Currency == "" {
		tp.Currency = "EUR"
	}
	if tp.Provider == "" {
		tp.Provider = "adyen"
	}
	if tp.Reference == "" {
		tp.Reference = "ref-" + NewIdemKey()
	}
	if tp.AuthEditor == nil {
		tp.AuthEditor = e.AsAdmin()
	}
	res, err := e.C.ConfirmTopupWithResponse(e.Ctx, &client.ConfirmTopupParams{IdempotencyKey: tp.Key}, client.ConfirmTopupInput{
		Meta: Meta(), Context: tp.Context,
		Data: client.ConfirmTopupInputData{WalletId: tp.WalletID, AmountMinor: tp.Amount, Currency: tp.Currency, Provider: tp.Provider, SettlementReference: tp.Reference},
	}, tp.AuthEditor)
	require.NoError(t, err)
	return res
}

// MustTopup sends a top-up that must succeed.
func (e *Env) MustTopup(t testing.TB, tp Topup) client.TopupResult {
	t.Helper()
	res := e.ConfirmTopup(t, tp)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

// SetReloadBonus writes a reload-bonus config that must be accepted.
func (e *Env) SetReloadBonus(t testing.TB, data client.SetReloadBonusConfigInputData) client.ReloadBonusConfig {
	t.Helper()
	res, err := e.C.SetReloadBonusConfigWithResponse(e.Ctx, &client.SetReloadBonusConfigParams{IdempotencyKey: NewIdemKey()},
		client.SetReloadBonusConfigInput{Meta: Meta(), Data: data}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

// UpsertSku writes a SKU that must be accepted.
func (e *Env) UpsertSku(t testing.TB, data client.UpsertSkuInputData) client.Sku {
	t.Helper()
	res, err := e.C.UpsertSkuWithResponse(e.Ctx, &client.UpsertSkuParams{IdempotencyKey: NewIdemKey()},
		client.UpsertSkuInput{Meta: Meta(), Data: data}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// RawEnvelope is a response envelope with data and error left raw.
type RawEnvelope struct {
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error json.RawMessage `json:"error"`
	Meta  json.RawMessage `json:"meta"`
}

// Envelope reads a response envelope.
func Envelope(t testing.TB, body []byte) RawEnvelope {
	t.Helper()
	var env RawEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	return env
}
