package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/wallets"
)

// TestLedgerInvariants runs a randomized concurrent mix of every movement
// this issue builds (top-ups and SKU top-ups through the real server with
// retried Idempotency-Keys, payments refunded in concurrent parts, verifies
// releasing locked grants, clawbacks,
// short-lived grants expiring lazily and by the sweeper) over many wallets,
// then proves the ledger's invariants over the whole database and that
// every retried key took effect exactly once.
func TestLedgerInvariants(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long concurrent mix: make test runs it")
	}
	const (
		walletCount = 24
		workers     = 8
		opsPer      = 32
	)
	began := time.Now()
	e := moneytest.Start(t)
	ctx := context.Background()
	e.SetReloadBonus(t, client.SetReloadBonusConfigInputData{Currency: "EUR", BonusExpiresInDays: 30, Active: true,
		Tiers: []client.ReloadBonusTierInput{{MinTopupMinor: 1000, BonusBps: moneytest.Ptr(500), MaxBonusMinor: moneytest.Ptr[int64](400)}}})
	e.UpsertSku(t, client.UpsertSkuInputData{SkuId: "GIFT-25", Currency: "EUR", FaceValueMinor: 2500, BonusMinor: 250, BonusExpiresInDays: 30, Active: true})

	ws := make([]wallets.Wallet, walletCount)
	for i := range ws {
		ws[i] = moneytest.Wallet(t, e.S.Pool, e.Tenant, moneytest.WalletOpts{Pending: i%2 == 0})
		moneytest.Grant(t, e.S.Pool, e.Tenant, ws[i].ID, 500, time.Hour, true) // the welcome grant
	}

	t.Logf("set up in %s", time.Since(began).Round(time.Millisecond))
	var mu sync.Mutex
	credited := map[string]int64{}  // wallet -> actual money the accepted keys credited
	accepted := map[string]string{} // key -> what it booked (keys that took effect)
	refunds := map[string]string{}  // refund key -> the refund it made
	walletApp := e.AsWalletApp(t)
	record := func(key, booked, walletID string, amount int64) {
		mu.Lock()
		defer mu.Unlock()
		accepted[key] = booked
		credited[walletID] += amount
	}
	// adjust counts a payment (its actual money out) or a refund (back in).
	adjust := func(walletID string, amount int64) {
		mu.Lock()
		defer mu.Unlock()
		credited[walletID] += amount
	}

	// send runs one keyed request, retried with the same key 0–2 more times,
	// some retries concurrent with the first; every answer must be the same.
	send := func(r *rand.Rand, call func() (int, []byte)) (int, []byte) {
		type answer struct {
			status int
			body   []byte
		}
		do := func() answer {
			for {
				status, body := call()
				if status == http.StatusConflict && moneytest.APIError(t, body).Code == client.ErrorCodeIdempotencyInProgress {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				return answer{status, body}
			}
		}
		retries := r.IntN(3)
		answers := make([]answer, 1+retries)
		var wg sync.WaitGroup
		for i := range answers {
			if i > 0 && r.IntN(2) == 0 {
				answers[i] = do() // sequential retry
				continue
			}
			wg.Go(func() { answers[i] = do() })
		}
		wg.Wait()
		for _, a := range answers[1:] {
			require.Equal(t, answers[0].status, a.status, "a retried key answers the same")
			require.Equal(t, dataOf(t, answers[0].body), dataOf(t, a.body), "a retried key answers the same")
		}
		return answers[0].status, answers[0].body
	}

	ops := []func(r *rand.Rand){
		func(r *rand.Rand) { // top-up, sometimes reusing a settlement reference
			w := ws[r.IntN(len(ws))]
			key, amount := moneytest.NewIdemKey(), 1+r.Int64N(3000)
			ref := "ref-" + key
			if r.IntN(10) == 0 {
				ref = "shared-ref" // every merchant's second use is refused
			}
			status, _ := send(r, func() (int, []byte) {
				res := e.ConfirmTopup(t, moneytest.Topup{Key: key, WalletID: w.ID, Amount: amount, Reference: ref})
				return res.StatusCode(), res.Body
			})
			switch status {
			case http.StatusOK:
				record(key, ref, w.ID, amount)
			case http.StatusConflict:
				require.Equal(t, "shared-ref", ref)
			default:
				t.Errorf("top-up answered %d", status)
			}
		},
		func(r *rand.Rand) { // SKU top-up
			w := ws[r.IntN(len(ws))]
			key, qty := moneytest.NewIdemKey(), 1+r.IntN(3)
			status, body := send(r, func() (int, []byte) {
				res, err := e.C.CreateSkuTopupWithResponse(ctx, "GIFT-25", &client.CreateSkuTopupParams{IdempotencyKey: key},
					client.CreateSkuTopupInput{Meta: moneytest.Meta(), Data: client.CreateSkuTopupInputData{WalletId: w.ID, Quantity: qty, PosReference: &key}}, e.AsAdmin())
				require.NoError(t, err)
				return res.StatusCode(), res.Body
			})
			require.Equal(t, http.StatusOK, status, "body: %s", body)
			record(key, key, w.ID, 2500*int64(qty))
		},
		func(r *rand.Rand) { // verify a pending wallet: flip and release in one transaction
			w := ws[2*r.IntN(len(ws)/2)]
			require.NoError(t, dbx.InTx(ctx, e.S.Pool, func(ctx context.Context, q *db.Queries) error {
				if _, err := wallets.MarkVerified(ctx, q, e.Tenant.MerchantID, w.ID, e.S.Clock.Now()); err != nil {
					return err
				}
				_, err := grants.ReleaseLocked(ctx, q, grants.Release{MerchantID: e.Tenant.MerchantID, WalletID: w.ID, IntegrationID: e.Tenant.IntegrationID, Reason: grants.ReasonWalletVerified}, e.S.Clock.Now())
				return err
			}))
		},
		func(r *rand.Rand) { // claw back a grant of the wallet
			w := ws[r.IntN(len(ws))]
			var id string
			err := e.S.Pool.QueryRow(ctx, `SELECT id FROM grants WHERE wallet_id = $1 ORDER BY random() LIMIT 1`, w.ID).Scan(&id)
			if err != nil {
				return
			}
			key := moneytest.NewIdemKey()
			status, body := send(r, func() (int, []byte) {
				res, err := e.C.ClawbackGrantWithResponse(ctx, id, &client.ClawbackGrantParams{IdempotencyKey: key},
					client.ClawbackGrantInput{Meta: moneytest.Meta(), Data: client.ClawbackGrantInputData{Reason: client.ClawbackReasonFraud}}, e.AsAdmin())
				require.NoError(t, err)
				return res.StatusCode(), res.Body
			})
			if status == http.StatusOK {
				record(key, "", w.ID, 0)
			} else {
				require.Equal(t, client.ErrorCodeGrantStateConflict, moneytest.APIError(t, body).Code)
			}
		},
		func(r *rand.Rand) { // a short-lived grant, soon due
			w := ws[r.IntN(len(ws))]
			amount, ttl, locked := 1+r.Int64N(300), time.Duration(5+r.IntN(200))*time.Millisecond, r.IntN(2) == 0
			require.NoError(t, dbx.InTx(ctx, e.S.Pool, func(ctx context.Context, q *db.Queries) error {
				held, err := wallets.GetForUpdate(ctx, q, e.Tenant.MerchantID, w.ID)
				if err != nil {
					return err
				}
				_, _, err = grants.IssueOnLockedWallet(ctx, q, held, grants.NewGrant{
					MerchantID: e.Tenant.MerchantID, IntegrationID: e.Tenant.IntegrationID, WalletID: w.ID,
					Source: grants.SourceWelcome, Amount: amount, ExpiresAt: e.S.Clock.Now().Add(ttl), Locked: locked,
				}, e.S.Clock.Now())
				return err
			}))
		},
		func(r *rand.Rand) { // pay (promo first), then refund it in 1–3 concurrent parts
			w := ws[2*r.IntN(len(ws)/2)+1] // verified from the start
			m, err := e.C.MintQrWithResponse(ctx, &client.MintQrParams{IdempotencyKey: moneytest.NewIdemKey()},
				client.MintQrInput{Meta: moneytest.Meta(), Data: client.MintQrInputData{WalletId: w.ID}}, walletApp)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, m.StatusCode(), "body: %s", m.Body)
			key, amount := moneytest.NewIdemKey(), 1+r.Int64N(2000)
			status, body := send(r, func() (int, []byte) {
				res, err := e.C.CreatePaymentWithResponse(ctx, &client.CreatePaymentParams{IdempotencyKey: key},
					client.CreatePaymentInput{Meta: moneytest.Meta(), Data: client.CreatePaymentInputData{
						AmountMinor: amount, Currency: "EUR", PartialAuthorization: moneytest.Ptr(true),
						Credential: client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: m.JSON200.Data.QrPayload},
					}}, e.AsAdmin())
				require.NoError(t, err)
				return res.StatusCode(), res.Body
			})
			if status != http.StatusOK { // nothing spendable, or another worker minted a newer QR for the wallet
				require.Contains(t, []client.ErrorCode{client.ErrorCodeInsufficientFunds, client.ErrorCodeCredentialInvalid}, moneytest.APIError(t, body).Code, "body: %s", body)
				return
			}
			require.Equal(t, http.StatusOK, status, "body: %s", body)
			var paid client.CreatePaymentOutput
			require.NoError(t, json.Unmarshal(body, &paid))
			p := paid.Data
			adjust(w.ID, -p.ActualAppliedMinor)

			parts := make([]*rand.Rand, 1+r.IntN(3))
			for i := range parts {
				parts[i] = rand.New(rand.NewPCG(r.Uint64(), 7))
			}
			var wg sync.WaitGroup
			for _, pr := range parts {
				wg.Go(func() {
					key, amount := moneytest.NewIdemKey(), 1+pr.Int64N(p.CapturedMinor)
					status, body := send(pr, func() (int, []byte) {
						res, err := e.C.RefundPaymentWithResponse(ctx, p.Id, &client.RefundPaymentParams{IdempotencyKey: key},
							client.RefundPaymentInput{Meta: moneytest.Meta(), Data: client.RefundPaymentInputData{AmountMinor: amount, Reason: "mix"}}, e.AsAdmin())
						require.NoError(t, err)
						return res.StatusCode(), res.Body
					})
					if status != http.StatusCreated {
						require.Equal(t, client.ErrorCodeRefundExceedsCaptured, moneytest.APIError(t, body).Code, "body: %s", body)
						return
					}
					var rf client.RefundPaymentOutput
					require.NoError(t, json.Unmarshal(body, &rf))
					adjust(w.ID, rf.Data.ActualRefundedMinor)
					mu.Lock()
					refunds[key] = rf.Data.Id
					mu.Unlock()
				})
			}
			wg.Wait()
		},
		func(r *rand.Rand) { // the sweeper, racing with everything else
			_, err := grants.Sweep(ctx, e.S.Pool, e.S.Clock.Now())
			require.NoError(t, err)
		},
	}
	weights := []int{5, 3, 1, 1, 2, 2, 1}
	total := 0
	for _, w := range weights {
		total += w
	}

	var wg sync.WaitGroup
	for i := range workers {
		r := rand.New(rand.NewPCG(uint64(i), 42))
		wg.Go(func() {
			for range opsPer {
				n := r.IntN(total)
				for k, w := range weights {
					if n < w {
						ops[k](r)
						break
					}
					n -= w
				}
			}
		})
	}
	wg.Wait()
	t.Logf("mix ran in %s", time.Since(began).Round(time.Millisecond))
	e.S.Clock.Advance(time.Second) // every short-lived grant is due
	_, err := grants.Sweep(ctx, e.S.Pool, e.S.Clock.Now())
	require.NoError(t, err)

	moneytest.CheckLedger(t, e.S.Pool)

	// Exactly once: each wallet holds the actual money of the keys that took
	// effect, no more (a retry credited twice) and no less; each accepted
	// key booked one transaction; no grant was clawed back twice.
	for _, w := range ws {
		got, err := wallets.Get(ctx, db.New(e.S.Pool), e.Tenant.MerchantID, w.ID)
		require.NoError(t, err)
		require.Equal(t, credited[w.ID], got.Balance.Actual, "wallet %s", w.ID)
	}
	var topups, skuSales, clawbacks int
	for key, booked := range accepted {
		if booked == "" { // a clawback
			clawbacks++
			continue
		}
		var n int
		require.NoError(t, e.S.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions
			WHERE settlement_reference = $1 OR pos_reference = $1`, booked).Scan(&n))
		require.Equal(t, 1, n, "key %s took effect once", key)
	}
	require.NoError(t, e.S.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE type = 'topup'), count(*) FILTER (WHERE type = 'sku_topup')
		FROM ledger_transactions`).Scan(&topups, &skuSales))
	require.Equal(t, len(accepted)-clawbacks, topups+skuSales, "every top-up belongs to one accepted key")
	var twice int
	require.NoError(t, e.S.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT grant_id FROM grant_events WHERE reason = 'clawback'
		GROUP BY grant_id HAVING count(*) > 1) x`).Scan(&twice))
	require.Zero(t, twice, "no grant clawed back twice")
	var shared int
	require.NoError(t, e.S.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions WHERE settlement_reference = 'shared-ref'`).Scan(&shared))
	require.LessOrEqual(t, shared, 1, "a settlement reference is credited once")
	var refundRows int
	require.NoError(t, e.S.Pool.QueryRow(ctx, `SELECT count(*) FROM refunds`).Scan(&refundRows))
	require.Equal(t, len(refunds), refundRows, "each accepted refund key refunded once")
	t.Logf("%d top-ups, %d SKU sales, %d clawbacks, %d refunds took effect", topups, skuSales, clawbacks, len(refunds))
}

// dataOf is a response without its per-request meta.
func dataOf(t *testing.T, body []byte) string {
	t.Helper()
	env := moneytest.Envelope(t, body)
	return fmt.Sprintf("%s|%s", env.Data, env.Error)
}
