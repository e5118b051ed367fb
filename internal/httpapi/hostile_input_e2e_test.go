package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
)

// TestHostileInputNeverReachesA500 sends POST /topup/confirm bodies a client
// library would never write (issue 11): each is refused with
// validation_failed naming the field, and nothing is credited.
func TestHostileInputNeverReachesA500(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	w := moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{})

	body := func(amount, reference string) string {
		return fmt.Sprintf(`{"meta":{"api_version":%q},"data":{"wallet_id":%q,%s,"currency":"EUR","provider":"adyen","settlement_reference":%s}}`,
			moneytest.APIVersion, w.ID, amount, reference)
	}
	balance := func() int64 {
		var actual int64
		require.NoError(t, e.S.Pool.QueryRow(context.Background(), `SELECT actual_minor FROM wallets WHERE id = $1`, w.ID).Scan(&actual))
		return actual
	}
	post := func(t *testing.T, raw string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, e.S.URL+"/topup/confirm", strings.NewReader(raw))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", e.Admin)
		req.Header.Set("Idempotency-Key", moneytest.NewIdemKey())
		return e.S.Do(t, req)
	}
	requireRefused := func(t *testing.T, res *http.Response, field string) {
		t.Helper()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		got := moneytest.RequireCode(t, http.StatusBadRequest, client.ErrorCodeValidationFailed, res.StatusCode, raw)
		require.NotNil(t, got.Field, "body: %s", raw)
		require.Equal(t, field, *got.Field)
	}

	before := balance()
	t.Run("AValidBodyIsCredited", func(t *testing.T) {
		res := post(t, body(`"amount_minor":1`, `"ref-ok"`))
		require.Equal(t, http.StatusOK, res.StatusCode)
		before++
		require.Equal(t, before, balance())
	})
	t.Run("RefusesADuplicateAmount", func(t *testing.T) {
		requireRefused(t, post(t, body(`"amount_minor":1,"amount_minor":100000000`, `"ref-dup"`)), "/data/amount_minor")
		require.Equal(t, before, balance(), "nothing is credited")
	})
	t.Run("RefusesNULInAString", func(t *testing.T) {
		requireRefused(t, post(t, body(`"amount_minor":1`, `"ref\u0000nul"`)), "/data/settlement_reference")
	})
	t.Run("RefusesALoneSurrogate", func(t *testing.T) {
		requireRefused(t, post(t, body(`"amount_minor":1`, `"ref\ud800"`)), "/data/settlement_reference")
	})
	t.Run("RefusesInvalidUTF8", func(t *testing.T) {
		requireRefused(t, post(t, body(`"amount_minor":1`, "\"ref\xc3\x28\"")), "/data/settlement_reference")
	})
	t.Run("RefusesNULInAQueryParameter", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, e.S.URL+"/events?cursor=a%00b", nil)
		require.NoError(t, err)
		req.Header.Set("X-Api-Key", e.Admin)
		requireRefused(t, e.S.Do(t, req), "/query/cursor")
	})
	t.Run("RefusesNULInAPathParameter", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, e.S.URL+"/payments/pay_%00", nil)
		require.NoError(t, err)
		req.Header.Set("X-Api-Key", e.Admin)
		requireRefused(t, e.S.Do(t, req), "/path/id")
	})
	// net/http will not carry a NUL in a header value (its client refuses to
	// send one, its server answers 400 itself), so the request goes to the
	// service's handler directly: the whole stack, database and response
	// validation included, without the wire.
	for _, header := range []string{"Idempotency-Key", "X-Request-Id", "X-Api-Key"} {
		t.Run("RefusesNULInHeader"+header, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/topup/confirm", strings.NewReader(body(`"amount_minor":1`, `"ref-h"`)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", e.Admin)
			req.Header.Set("Idempotency-Key", moneytest.NewIdemKey())
			req.Header[header] = []string{"a\x00b"}
			rec := httptest.NewRecorder()
			e.S.App.Handler.ServeHTTP(rec, req)
			requireRefused(t, rec.Result(), "/header/"+header)
		})
	}
	require.Equal(t, before, balance(), "nothing but the valid top-up is credited")
}
