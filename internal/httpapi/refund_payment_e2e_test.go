package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/moneytest"
)

// refund sends POST /payments/{id}/refunds with key (a fresh one when "").
func (e *payEnv) refund(paymentID string, amount int64, key string, auth ...client.RequestEditorFn) *client.RefundPaymentResponse {
	e.t.Helper()
	if key == "" {
		key = moneytest.NewIdemKey()
	}
	if len(auth) == 0 {
		auth = []client.RequestEditorFn{e.AsAdmin()}
	}
	res, err := e.C.RefundPaymentWithResponse(e.Ctx, paymentID, &client.RefundPaymentParams{IdempotencyKey: key},
		client.RefundPaymentInput{Meta: moneytest.Meta(), Data: client.RefundPaymentInputData{
			AmountMinor: amount, Reason: "Customer returned goods.", Reference: payRef("return-0001"),
		}}, auth...)
	require.NoError(e.t, err)
	return res
}

// refunded checks a successful refund and its split.
func refunded(t *testing.T, res *client.RefundPaymentResponse, actual, promo, forfeited int64) client.Refund {
	t.Helper()
	require.Equal(t, http.StatusCreated, res.StatusCode(), "body: %s", res.Body)
	r := res.JSON201.Data
	require.Regexp(t, `^rfd_`, r.Id)
	require.EqualValues(t, actual, r.ActualRefundedMinor, "actual refunded")
	require.EqualValues(t, promo, r.PromoRefundedMinor, "promo refunded")
	require.EqualValues(t, forfeited, r.PromoForfeitedMinor, "promo forfeited")
	require.EqualValues(t, actual+promo+forfeited, r.AmountMinor)
	return r
}

// payAuto pays amount with automatic capture and returns the payment.
func (e *payEnv) payAuto(walletID string, amount int64) client.Payment {
	e.t.Helper()
	res := e.payQR(e.mint(walletID).QrPayload, amount)
	require.Equal(e.t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	require.Equal(e.t, client.PaymentStatusCaptured, res.JSON200.Data.Status)
	return res.JSON200.Data
}

// remaining reads each grant's remaining promo and state, by original amount.
func (e *payEnv) remaining(walletID string) map[int64][2]any {
	e.t.Helper()
	rows, err := e.S.Pool.Query(context.Background(), `SELECT original_minor, remaining_minor, state FROM grants WHERE wallet_id = $1`, walletID)
	require.NoError(e.t, err)
	defer rows.Close()
	out := map[int64][2]any{}
	for rows.Next() {
		var original, rem int64
		var state string
		require.NoError(e.t, rows.Scan(&original, &rem, &state))
		out[original] = [2]any{rem, state}
	}
	require.NoError(e.t, rows.Err())
	return out
}

func TestRefundPayment(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)

	// The worked example of docs/refunds.md: 450 = 300 promo + 150 actual,
	// refunded 200, then 250.
	t.Run("WorkedExamplePartialRefundsToTheLimit", func(t *testing.T) {
		w := e.wallet(150, grantSpec{300, 30 * 24 * time.Hour})
		p := e.payAuto(w.ID, 450)
		require.EqualValues(t, 300, p.PromoAppliedMinor)
		require.EqualValues(t, 150, p.ActualAppliedMinor)
		require.EqualValues(t, 0, *p.RefundedMinor)
		require.Empty(t, *p.Refunds)
		require.Equal(t, map[int64][2]any{300: {int64(0), "consumed"}}, e.remaining(w.ID))

		first := refunded(t, e.refund(p.Id, 200, ""), 150, 50, 0) // actual first
		require.EqualValues(t, 150, first.BalanceAfter.ActualMinor)
		require.EqualValues(t, 50, first.BalanceAfter.PromoAvailableMinor)
		require.EqualValues(t, 200, first.BalanceAfter.SpendableMinor)
		require.Equal(t, "return-0001", *first.Reference)
		require.Equal(t, map[int64][2]any{300: {int64(50), "available"}}, e.remaining(w.ID))

		second := refunded(t, e.refund(p.Id, 250, ""), 0, 250, 0)
		require.EqualValues(t, 150, second.BalanceAfter.ActualMinor)
		require.EqualValues(t, 300, second.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64][2]any{300: {int64(300), "available"}}, e.remaining(w.ID))

		res := e.refund(p.Id, 1, "")
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeRefundExceedsCaptured)
		require.EqualValues(t, 0, (*got.Details)["refundable_minor"])
		require.Equal(t, "/data/amount_minor", *got.Field)

		after := e.payment(p.Id)
		require.Equal(t, client.PaymentStatusCaptured, after.Status)
		require.EqualValues(t, 450, *after.RefundedMinor)
		require.Len(t, *after.Refunds, 2)
		require.Equal(t, first.Id, (*after.Refunds)[0].Id)
		require.Equal(t, second.Id, (*after.Refunds)[1].Id)
		require.Equal(t, 2, e.count(`SELECT count(*) FROM ledger_transactions WHERE payment_id = $1 AND type = 'payment_refund'`, p.Id))

		// The consumed grant came back: its history shows the transition.
		g := e.grant(w.CustomerID, e.grantOf(w.ID))
		var back []client.GrantHistoryEntry
		for _, h := range g.History {
			if h.Reason == "payment_refunded" {
				back = append(back, h)
			}
		}
		require.Len(t, back, 1, "history: %+v", g.History)
		require.Equal(t, client.GrantStateConsumed, *back[0].FromState)
		require.Equal(t, client.GrantStateAvailable, back[0].ToState)
		require.Equal(t, first.TransactionId, *back[0].TransactionId)
	})

	t.Run("FullRefundRestoresTheWallet", func(t *testing.T) {
		w := e.wallet(12000, grantSpec{500, 60 * 24 * time.Hour}, grantSpec{1000, 30 * 24 * time.Hour})
		p := e.payAuto(w.ID, 2450)
		r := refunded(t, e.refund(p.Id, 2450, ""), 950, 1500, 0)
		require.EqualValues(t, 12000, r.BalanceAfter.ActualMinor)
		require.EqualValues(t, 1500, r.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64][2]any{500: {int64(500), "available"}, 1000: {int64(1000), "available"}}, e.remaining(w.ID))
		txn, err := e.C.GetTransactionWithResponse(e.Ctx, e.Tenant.IntegrationID, r.TransactionId, &client.GetTransactionParams{}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, txn.StatusCode(), "body: %s", txn.Body)
		require.Equal(t, client.TransactionType("payment_refund"), txn.JSON200.Data.Type)
		require.EqualValues(t, 950, txn.JSON200.Data.ActualDeltaMinor)
		require.EqualValues(t, 1500, txn.JSON200.Data.PromoDeltaMinor)
		require.Equal(t, p.Id, *txn.JSON200.Data.References.PaymentId)
	})

	t.Run("PromoGoesBackNewestAllocationFirst", func(t *testing.T) {
		// Allocation: the 1000 grant (expiring first), then the 500 one.
		w := e.wallet(200, grantSpec{500, 60 * 24 * time.Hour}, grantSpec{1000, 30 * 24 * time.Hour})
		p := e.payAuto(w.ID, 1700) // 1000 + 500 promo, 200 actual
		refunded(t, e.refund(p.Id, 500, ""), 200, 300, 0)
		require.Equal(t, map[int64][2]any{500: {int64(300), "available"}, 1000: {int64(0), "consumed"}}, e.remaining(w.ID))
		refunded(t, e.refund(p.Id, 400, ""), 0, 400, 0) // 200 more to the 500 grant, then 200 to the 1000 one
		require.Equal(t, map[int64][2]any{500: {int64(500), "available"}, 1000: {int64(200), "available"}}, e.remaining(w.ID))
	})

	t.Run("ManualCaptureRefundsWhatWasCaptured", func(t *testing.T) {
		// 2450 = 1000 + 500 promo + 950 actual; capturing 500 gives all actual
		// and the 500 grant's promo back: the capture kept 500 of the 1000 grant.
		w := e.wallet(12000, grantSpec{500, 60 * 24 * time.Hour}, grantSpec{1000, 30 * 24 * time.Hour})
		p := e.authorizeManual(w.ID, 2450)
		res := e.refund(p.Id, 100, "")
		got := wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)
		require.Equal(t, "authorized", (*got.Details)["status"])
		require.Contains(t, got.Message, "not captured")

		c := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(500))})
		require.Equal(t, http.StatusOK, c.StatusCode(), "body: %s", c.Body)
		res = e.refund(p.Id, 501, "")
		got = wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeRefundExceedsCaptured)
		require.EqualValues(t, 500, (*got.Details)["refundable_minor"])
		r := refunded(t, e.refund(p.Id, 500, ""), 0, 500, 0)
		require.EqualValues(t, 12000, r.BalanceAfter.ActualMinor)
		require.EqualValues(t, 1500, r.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64][2]any{500: {int64(500), "available"}, 1000: {int64(1000), "available"}}, e.remaining(w.ID))
	})

	t.Run("ClosedPaymentIsNotRefundable", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.authorizeManual(w.ID, 400)
		c := e.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose})
		require.Equal(t, http.StatusOK, c.StatusCode(), "body: %s", c.Body)
		res := e.refund(p.Id, 100, "")
		got := wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)
		require.Equal(t, "closed", (*got.Details)["status"])
	})

	t.Run("ClawedBackGrantForfeitsItsPromo", func(t *testing.T) {
		// Allocation: the 300 grant (expiring first), then 200 of the 700.
		w := e.wallet(0, grantSpec{700, 60 * 24 * time.Hour}, grantSpec{300, 30 * 24 * time.Hour})
		p := e.payAuto(w.ID, 500)
		var clawed string
		require.NoError(t, e.S.Pool.QueryRow(context.Background(),
			`SELECT id FROM grants WHERE wallet_id = $1 AND original_minor = 700`, w.ID).Scan(&clawed))
		cb, err := e.C.ClawbackGrantWithResponse(e.Ctx, clawed, &client.ClawbackGrantParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.ClawbackGrantInput{Meta: moneytest.Meta(), Data: client.ClawbackGrantInputData{Reason: client.ClawbackReasonFraud}}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, cb.StatusCode(), "body: %s", cb.Body)
		before := e.accountTotal("merchant:" + e.Tenant.MerchantID + ":promo_clawback")

		r := refunded(t, e.refund(p.Id, 500, ""), 0, 300, 200) // the newest allocation (the 700's) is forfeited
		require.EqualValues(t, 300, r.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64][2]any{700: {int64(0), "clawed_back"}, 300: {int64(300), "available"}}, e.remaining(w.ID))
		require.EqualValues(t, before+200, e.accountTotal("merchant:"+e.Tenant.MerchantID+":promo_clawback"))
		require.EqualValues(t, 500, *e.payment(p.Id).RefundedMinor)
	})

	t.Run("ExpiredGrantForfeitsItsPromo", func(t *testing.T) {
		e := newPayEnv(t) // it advances the clock
		// Allocation: the 500 grant (expiring in an hour), then the 1000.
		w := e.wallet(0, grantSpec{1000, 60 * 24 * time.Hour}, grantSpec{500, time.Hour})
		p := e.payAuto(w.ID, 1500)
		e.S.Clock.Advance(2 * time.Hour)
		r := refunded(t, e.refund(p.Id, 1500, ""), 0, 1000, 500)
		require.EqualValues(t, 1000, r.BalanceAfter.PromoAvailableMinor)
		require.Equal(t, map[int64][2]any{1000: {int64(1000), "available"}, 500: {int64(0), "expired"}}, e.remaining(w.ID))
		require.EqualValues(t, 500, e.accountTotal("merchant:"+e.Tenant.MerchantID+":promo_expired"))
		require.EqualValues(t, 0, e.accountTotal("merchant:"+e.Tenant.MerchantID+":promo_redeemed"),
			"the refund took all 1500 back out of promo_redeemed")
	})

	t.Run("IdempotentReplay", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.payAuto(w.ID, 600)
		key := moneytest.NewIdemKey()
		first := refunded(t, e.refund(p.Id, 200, key), 200, 0, 0)
		again := e.refund(p.Id, 200, key)
		replayed := refunded(t, again, 200, 0, 0)
		require.Equal(t, first.Id, replayed.Id)
		require.True(t, again.JSON201.Meta.IdempotentReplay)
		require.Equal(t, "true", again.HTTPResponse.Header.Get("Idempotent-Replayed"))
		require.EqualValues(t, 200, *e.payment(p.Id).RefundedMinor, "refunded once")
		res := e.refund(p.Id, 300, key)
		wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeIdempotencyKeyReused)
		res = e.refund(p.Id, 200, "")
		refunded(t, res, 200, 0, 0) // a new key refunds again
	})

	t.Run("OtherMerchantOrIntegrationIsNotFound", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.payAuto(w.ID, 300)
		res := e.refund("pay_01JWREDZS08C5W3VCRQEDKC38Q", 100, "")
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		other := moneytest.On(t, e.S, "Other Merchant")
		res = e.refund(p.Id, 100, "", other.AsAdmin())
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		_, key := e.OtherIntegration(t)
		res = e.refund(p.Id, 100, "", moneytest.Key(key))
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		require.EqualValues(t, 0, *e.payment(p.Id).RefundedMinor)
	})

	t.Run("NeedsPaymentsRefund", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.payAuto(w.ID, 300)
		res := e.refund(p.Id, 100, "", e.keyWith(client.ScopePaymentsWrite, client.ScopePaymentsRead))
		got := wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		require.Contains(t, (*got.Details)["required_scopes"], "payments:refund")
		refunded(t, e.refund(p.Id, 100, "", e.keyWith(client.ScopePaymentsRefund)), 100, 0, 0)
		refunded(t, e.refund(p.Id, 100, "", moneytest.Bearer(e.Mint(t, e.Admin, "till-refunds", client.ScopePaymentsRefund))), 100, 0, 0)
	})

	t.Run("WalletAppKeyCannotHoldRefund", func(t *testing.T) {
		res, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.CreateApiKeyInput{Meta: moneytest.Meta(), Data: client.CreateApiKeyInputData{
				Name: "wallet app and refunds", Scopes: []client.Scope{client.ScopeQrMint, client.ScopePaymentsRefund},
			}}, e.AsAdmin())
		require.NoError(t, err)
		wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
	})

	t.Run("AmountMustBePositive", func(t *testing.T) {
		w := e.wallet(1000)
		p := e.payAuto(w.ID, 300)
		res := e.refund(p.Id, 0, "")
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/amount_minor", *got.Field)
	})

	t.Run("RefundAboveTheCeilingIsAmountInvalid", func(t *testing.T) {
		w := e.wallet(450)
		p := e.payAuto(w.ID, 450)
		e.topup(w.ID, "EUR", money.MaxAmountMinor)
		res := e.refund(p.Id, 450, "")
		got := wantError(t, res, res.Body, http.StatusUnprocessableEntity, client.ErrorCodeAmountInvalid)
		require.Equal(t, "/data/amount_minor", *got.Field)
	})

	t.Run("CapabilitiesReportTheScopeAndTheOperation", func(t *testing.T) {
		refundOp := func(auth client.RequestEditorFn) (client.CapabilitiesData, client.CapabilitiesOperation) {
			t.Helper()
			res, err := e.C.GetCapabilitiesWithResponse(e.Ctx, &client.GetCapabilitiesParams{}, auth)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			for _, op := range res.JSON200.Data.Operations {
				if op.OperationId == "refundPayment" {
					return res.JSON200.Data, op
				}
			}
			t.Fatal("refundPayment not listed")
			return client.CapabilitiesData{}, client.CapabilitiesOperation{}
		}
		data, op := refundOp(e.AsAdmin())
		require.Contains(t, data.Scopes, client.ScopePaymentsRefund, "the bootstrap key holds payments:refund")
		require.True(t, op.Enabled)
		require.Equal(t, []client.Scope{client.ScopePaymentsRefund}, op.RequiredScopes)
		require.Equal(t, "/payments/{id}/refunds", op.Path)
		data, op = refundOp(e.AsWalletApp(t))
		require.NotContains(t, data.Scopes, client.ScopePaymentsRefund)
		require.False(t, op.Enabled, "the wallet app never refunds")
	})
}

// TestRefundPaymentConcurrently refunds one payment from many goroutines
// at once: the payment's row lock serializes them, so the refunds never
// exceed what was captured.
func TestRefundPaymentConcurrently(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	w := e.wallet(1000, grantSpec{300, 30 * 24 * time.Hour})
	p := e.payAuto(w.ID, 1000) // 300 promo + 700 actual
	const workers, each = 24, 70
	var mu sync.Mutex
	var ok, exceeded int
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			res, err := e.C.RefundPaymentWithResponse(e.Ctx, p.Id, &client.RefundPaymentParams{IdempotencyKey: moneytest.NewIdemKey()},
				client.RefundPaymentInput{Meta: moneytest.Meta(), Data: client.RefundPaymentInputData{AmountMinor: each, Reason: "race"}}, e.AsAdmin())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch res.StatusCode() {
			case http.StatusCreated:
				ok++
			case http.StatusUnprocessableEntity:
				exceeded++
			default:
				t.Errorf("unexpected %d: %s", res.StatusCode(), res.Body)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1000/each, ok, "every refund that fits succeeds, no more")
	require.Equal(t, workers-ok, exceeded)
	got := e.payment(p.Id)
	require.EqualValues(t, ok*each, *got.RefundedMinor)
	require.LessOrEqual(t, *got.RefundedMinor, got.CapturedMinor)
	require.Len(t, *got.Refunds, ok)
	b := e.balance(w.ID).Balance
	require.EqualValues(t, 1000, b.Actual) // 300 left, 700 back first
	require.EqualValues(t, ok*each-700, b.PromoAvailable)
}
