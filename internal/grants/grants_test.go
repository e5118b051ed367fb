package grants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/wallets"
)

type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	tenant moneytest.Tenant
	svc    *grants.Service
	clock  *clock.Clock
}

func setup(t *testing.T) bundle {
	t.Helper()
	pool := testdb.New(t)
	c := clock.New()
	b := bundle{ctx: context.Background(), pool: pool, tenant: moneytest.NewTenant(t, pool), svc: grants.NewService(pool, c.Now), clock: c}
	t.Cleanup(func() { moneytest.CheckLedger(t, pool) })
	return b
}

func (b bundle) wallet(t *testing.T, pending bool) wallets.Wallet {
	return moneytest.Wallet(t, b.pool, b.tenant, moneytest.WalletOpts{Pending: pending})
}

func (b bundle) read(t *testing.T, walletID string) wallets.Wallet {
	t.Helper()
	w, err := wallets.Get(b.ctx, db.New(b.pool), b.tenant.MerchantID, walletID)
	require.NoError(t, err)
	return w
}

// paymentRow stores the authorized payment of a test that books its hold by
// hand, so the hold belongs to a payment (moneytest's hold invariants).
func (b bundle) paymentRow(ctx context.Context, q *db.Queries, id string, w wallets.Wallet, as []grants.Allocation) error {
	gs, amounts := make([]string, len(as)), make([]int64, len(as))
	for i, a := range as {
		gs[i], amounts[i] = a.GrantID, a.Amount
	}
	_, err := q.PaymentInsert(ctx, db.PaymentInsertParams{
		ID: id, MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID, WalletID: w.ID, CustomerID: w.CustomerID,
		Currency: w.Currency, AmountMinor: grants.Total(as), PromoAppliedMinor: grants.Total(as), Status: "authorized",
		CaptureMode: "manual", AuthorizationTtlSeconds: 3600, GrantIds: gs, GrantAmounts: amounts, Now: b.clock.Now(),
	})
	return err
}

func (b bundle) grantsOf(t *testing.T, customerID string) map[string]grants.Grant {
	t.Helper()
	page, err := b.svc.ListForCustomer(b.ctx, grants.ListQuery{MerchantID: b.tenant.MerchantID, CustomerID: customerID, Limit: 200})
	require.NoError(t, err)
	out := map[string]grants.Grant{}
	for _, g := range page.Items {
		out[g.ID] = g
	}
	return out
}

func (b bundle) release(t *testing.T, walletID string) ([]grants.Grant, error) {
	t.Helper()
	return dbx.InTxValue(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) ([]grants.Grant, error) {
		if _, err := wallets.MarkVerified(ctx, q, b.tenant.MerchantID, walletID, b.clock.Now()); err != nil {
			return nil, err
		}
		return grants.ReleaseLocked(ctx, q, grants.Release{MerchantID: b.tenant.MerchantID, WalletID: walletID, IntegrationID: b.tenant.IntegrationID, Reason: grants.ReasonWalletVerified}, b.clock.Now())
	})
}

func TestIssue(t *testing.T) {
	t.Parallel()

	t.Run("AvailableOnAVerifiedWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, false)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, false)
		require.Equal(t, grants.StateAvailable, g.State)
		require.Equal(t, int64(500), b.read(t, w.ID).Balance.PromoAvailable)
		require.Len(t, g.History, 1)
		require.Equal(t, grants.ReasonIssued, g.History[0].Reason)
		require.NotEmpty(t, g.History[0].TransactionID)
	})
	t.Run("AlwaysLockedOnAPendingWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, true)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, false)
		require.Equal(t, grants.StateLocked, g.State)
		got := b.read(t, w.ID).Balance
		require.Equal(t, int64(500), got.PromoLocked)
		require.Zero(t, got.PromoAvailable)
		require.Zero(t, got.Spendable())
	})
	t.Run("RefusesAPastExpiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, false)
		err := dbx.InTx(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) error {
			_, _, err := grants.Issue(ctx, q, grants.NewGrant{MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID, WalletID: w.ID,
				Source: grants.SourceWelcome, Amount: 5, ExpiresAt: b.clock.Now().Add(-time.Second)}, b.clock.Now())
			return err
		})
		require.ErrorIs(t, err, grants.ErrInvalid)
	})
}

func TestReleaseLocked(t *testing.T) {
	t.Parallel()

	t.Run("ReleasesEveryLockedGrantInOneTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, true)
		g1 := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, true)
		g2 := moneytest.Grant(t, b.pool, b.tenant, w.ID, 300, 2*time.Hour, true)
		released, err := b.release(t, w.ID)
		require.NoError(t, err)
		require.Len(t, released, 2)
		for _, g := range released {
			require.Equal(t, grants.StateAvailable, g.State)
			last := g.History[len(g.History)-1]
			require.Equal(t, grants.StateLocked, last.From)
			require.Equal(t, grants.ReasonWalletVerified, last.Reason)
		}
		require.Equal(t, released[0].History[1].TransactionID, released[1].History[1].TransactionID)
		got := b.read(t, w.ID)
		require.Equal(t, wallets.StatusVerified, got.Status)
		require.Equal(t, int64(800), got.Balance.PromoAvailable)
		require.Zero(t, got.Balance.PromoLocked)
		_ = g1
		_ = g2

		again, err := b.release(t, w.ID)
		require.NoError(t, err, "safe to repeat")
		require.Empty(t, again)
	})

	t.Run("ExpiresDueLockedGrantsInstead", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, true)
		dying := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Minute, true)
		live := moneytest.Grant(t, b.pool, b.tenant, w.ID, 300, time.Hour, true)
		b.clock.Advance(2 * time.Minute)
		released, err := b.release(t, w.ID)
		require.NoError(t, err)
		require.Len(t, released, 1)
		require.Equal(t, live.ID, released[0].ID)
		all := b.grantsOf(t, w.CustomerID)
		require.Equal(t, grants.StateExpired, all[dying.ID].State)
		require.Zero(t, all[dying.ID].Remaining)
		require.Equal(t, int64(300), b.read(t, w.ID).Balance.PromoAvailable)
	})

	t.Run("RefusesAPendingWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, true)
		moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, true)
		err := dbx.InTx(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) error {
			_, err := grants.ReleaseLocked(ctx, q, grants.Release{MerchantID: b.tenant.MerchantID, WalletID: w.ID, IntegrationID: b.tenant.IntegrationID}, b.clock.Now())
			return err
		})
		require.ErrorIs(t, err, wallets.ErrNotVerified)
	})

	// Verify flips the wallet and releases its grants in one transaction: a
	// failure after both leaves the wallet pending_proof and the grants locked.
	t.Run("AFailureInsideTheTransactionLeavesEverythingLocked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, true)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, true)
		injected := errors.New("injected failure")
		err := dbx.InTx(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) error {
			if _, err := wallets.MarkVerified(ctx, q, b.tenant.MerchantID, w.ID, b.clock.Now()); err != nil {
				return err
			}
			released, err := grants.ReleaseLocked(ctx, q, grants.Release{MerchantID: b.tenant.MerchantID, WalletID: w.ID, IntegrationID: b.tenant.IntegrationID}, b.clock.Now())
			require.NoError(t, err)
			require.Len(t, released, 1)
			return injected
		})
		require.ErrorIs(t, err, injected)
		got := b.read(t, w.ID)
		require.Equal(t, wallets.StatusPendingProof, got.Status)
		require.Equal(t, int64(500), got.Balance.PromoLocked)
		require.Equal(t, grants.StateLocked, b.grantsOf(t, w.CustomerID)[g.ID].State)
	})
}

func TestExpiry(t *testing.T) {
	t.Parallel()

	t.Run("CurrentWalletExpiresLazily", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, false)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Minute, false)
		moneytest.Grant(t, b.pool, b.tenant, w.ID, 200, time.Hour, false)
		b.clock.Advance(2 * time.Minute)
		later := b.clock.Now()
		got, err := dbx.InTxValue(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) (wallets.Wallet, error) {
			return grants.CurrentWallet(ctx, q, b.tenant.MerchantID, w.ID, later)
		})
		require.NoError(t, err)
		require.Equal(t, int64(200), got.Balance.PromoAvailable)
		require.Equal(t, got.Balance, b.read(t, w.ID).Balance)
		expired := b.grantsOf(t, w.CustomerID)[g.ID]
		require.Equal(t, grants.StateExpired, expired.State)
		last := expired.History[len(expired.History)-1]
		require.Equal(t, grants.ReasonExpired, last.Reason)
		require.Equal(t, int64(500), last.Amount)
		txn, err := ledger.Get(b.ctx, db.New(b.pool), b.tenant.MerchantID, last.TransactionID)
		require.NoError(t, err)
		require.Equal(t, ledger.TypePromoExpiry, txn.Type)
		require.Equal(t, int64(-500), txn.PromoDelta)
		require.Equal(t, g.ID, txn.References.GrantID)
	})

	t.Run("TheSweeperExpiresEveryDueWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var ws []wallets.Wallet
		for i := range 3 {
			w := b.wallet(t, i == 0)
			moneytest.Grant(t, b.pool, b.tenant, w.ID, 100, time.Minute, false)
			ws = append(ws, w)
		}
		keep := b.wallet(t, false)
		moneytest.Grant(t, b.pool, b.tenant, keep.ID, 100, time.Hour, false)
		// The sweep runs past the first grants' expiry: no race with the
		// wall clock on a loaded machine.
		b.clock.Advance(2 * time.Minute)
		n, err := grants.Sweep(b.ctx, b.pool, b.clock.Now())
		require.NoError(t, err)
		require.Equal(t, 3, n)
		for _, w := range ws {
			got := b.read(t, w.ID).Balance
			require.Zero(t, got.PromoAvailable+got.PromoLocked)
			require.Nil(t, got.NextPromoExpiryAt)
		}
		require.Equal(t, int64(100), b.read(t, keep.ID).Balance.PromoAvailable)
		n, err = grants.Sweep(b.ctx, b.pool, b.clock.Now().Add(time.Second))
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to do")
	})
}

func TestClawback(t *testing.T) {
	t.Parallel()

	claw := func(b bundle, id string) (grants.Clawed, error) {
		return b.svc.Clawback(b.ctx, grants.ClawbackRequest{MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID,
			GrantID: id, Reason: grants.ClawbackFraud, Note: "chargeback", Context: ledger.Context{OperatorID: "risk-1"}})
	}

	t.Run("RemovesWhatRemainsOfALockedOrAvailableGrant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, pending := range []bool{false, true} {
			w := b.wallet(t, pending)
			g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, false)
			out, err := claw(b, g.ID)
			require.NoError(t, err)
			require.Equal(t, grants.StateClawedBack, out.Grant.State)
			require.Zero(t, out.Grant.Remaining)
			require.Equal(t, ledger.TypePromoClawback, out.Transaction.Type)
			require.Equal(t, int64(-500), out.Transaction.PromoDelta)
			require.Zero(t, out.Transaction.ActualDelta)
			require.Equal(t, "risk-1", out.Transaction.Context.OperatorID)
			last := out.Grant.History[len(out.Grant.History)-1]
			require.Equal(t, grants.ReasonClawback, last.Reason)
			require.Equal(t, "fraud", last.Detail)
			got := b.read(t, w.ID).Balance
			require.Zero(t, got.PromoAvailable+got.PromoLocked)
		}
	})

	t.Run("RefusesAFinalGrant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, false)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Hour, false)
		_, err := claw(b, g.ID)
		require.NoError(t, err)
		_, err = claw(b, g.ID)
		var conflict *grants.StateConflictError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, grants.StateClawedBack, conflict.State)
		require.Equal(t, map[string]any{"state": "clawed_back"}, conflict.Details())
	})

	t.Run("ExpiresAGrantPastItsExpiryAndRefuses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.wallet(t, false)
		g := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, time.Minute, false)
		b.clock.Advance(2 * time.Minute)
		_, err := claw(b, g.ID)
		require.ErrorIs(t, err, grants.ErrStateConflict)
		require.Equal(t, grants.StateExpired, b.grantsOf(t, w.CustomerID)[g.ID].State, "the expiry was kept")
	})

	t.Run("UnknownOrForeignGrantIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := moneytest.NewTenant(t, b.pool)
		w := moneytest.Wallet(t, b.pool, other, moneytest.WalletOpts{})
		g := moneytest.Grant(t, b.pool, other, w.ID, 500, time.Hour, false)
		_, err := claw(b, g.ID)
		require.ErrorIs(t, err, grants.ErrNotFound)
		_, err = claw(b, ids.New(ids.Grant))
		require.ErrorIs(t, err, grants.ErrNotFound)
	})
}

func TestSpendAndRestore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.wallet(t, false)
	g1 := moneytest.Grant(t, b.pool, b.tenant, w.ID, 300, time.Hour, false)
	g2 := moneytest.Grant(t, b.pool, b.tenant, w.ID, 500, 2*time.Hour, false)
	payment := ids.New(ids.Payment)

	// Authorize 400 promo-first: all of g1, 100 of g2.
	allocs, err := dbx.InTxValue(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) ([]grants.Allocation, error) {
		locked, err := wallets.GetForUpdate(ctx, q, b.tenant.MerchantID, w.ID)
		if err != nil {
			return nil, err
		}
		live, err := grants.ListLive(ctx, q, b.tenant.MerchantID, w.ID)
		if err != nil {
			return nil, err
		}
		as := grants.AllocatePromoFirst(live, 400, b.clock.Now())
		txnID := ids.New(ids.Transaction)
		if _, err := grants.Spend(ctx, q, locked, as, txnID); err != nil {
			return nil, err
		}
		_, err = ledger.Post(ctx, q, ledger.Movement{ID: txnID, MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID,
			Type: ledger.TypePaymentAuthorization, WalletID: w.ID, Currency: "EUR", Amount: 400,
			Entries: []ledger.Entry{
				{Account: ledger.WalletPromoAvailable(w.ID), Amount: -400},
				{Account: ledger.HoldPromo(payment), Amount: 400},
			}, References: ledger.References{PaymentID: payment}})
		if err != nil {
			return nil, err
		}
		return as, b.paymentRow(ctx, q, payment, w, as)
	})
	require.NoError(t, err)
	require.Equal(t, []grants.Allocation{{g1.ID, 300}, {g2.ID, 100}}, allocs)
	all := b.grantsOf(t, w.CustomerID)
	require.Equal(t, grants.StateConsumed, all[g1.ID].State)
	require.Equal(t, int64(400), all[g2.ID].Remaining)

	// g2 is clawed back meanwhile; closing the payment restores g1 and lapses g2's share.
	_, err = b.svc.Clawback(b.ctx, grants.ClawbackRequest{MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID, GrantID: g2.ID, Reason: grants.ClawbackOther})
	require.NoError(t, err)
	err = dbx.InTx(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) error {
		locked, err := wallets.GetForUpdate(ctx, q, b.tenant.MerchantID, w.ID)
		if err != nil {
			return err
		}
		txnID := ids.New(ids.Transaction)
		returned, err := grants.Restore(ctx, q, locked, allocs, txnID, b.clock.Now())
		if err != nil {
			return err
		}
		require.Equal(t, []grants.Allocation{{g1.ID, 300}}, returned.Restored)
		require.Equal(t, int64(100), returned.ClawedBack, "promo of a clawed-back grant goes to promo_clawback")
		require.Zero(t, returned.Expired)
		_, err = ledger.Post(ctx, q, ledger.Movement{ID: txnID, MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID,
			Type: ledger.TypePaymentRelease, WalletID: w.ID, Currency: "EUR", Amount: 400,
			Entries: []ledger.Entry{
				{Account: ledger.HoldPromo(payment), Amount: -400},
				{Account: ledger.WalletPromoAvailable(w.ID), Amount: grants.Total(returned.Restored)},
				{Account: ledger.PromoClawback(b.tenant.MerchantID), Amount: returned.ClawedBack},
			}, References: ledger.References{PaymentID: payment}})
		if err != nil {
			return err
		}
		_, err = q.PaymentSettle(ctx, db.PaymentSettleParams{MerchantID: b.tenant.MerchantID, ID: payment, Status: "closed"})
		return err
	})
	require.NoError(t, err)
	all = b.grantsOf(t, w.CustomerID)
	require.Equal(t, grants.StateAvailable, all[g1.ID].State)
	require.Equal(t, int64(300), all[g1.ID].Remaining)
	last := all[g1.ID].History[len(all[g1.ID].History)-1]
	require.Equal(t, grants.ReasonPaymentClosed, last.Reason)
	lapse := all[g2.ID].History[len(all[g2.ID].History)-1]
	require.Equal(t, grants.Event{From: grants.StateClawedBack, To: grants.StateClawedBack, Reason: grants.ReasonPaymentClosed,
		Amount: 100, TransactionID: lapse.TransactionID, At: lapse.At}, lapse, "the lapse is in the clawed-back grant's history")
	require.Equal(t, int64(300), b.read(t, w.ID).Balance.PromoAvailable)
}
