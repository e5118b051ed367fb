package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/wallets"
)

type bundle struct {
	pool   *pgxpool.Pool
	tenant moneytest.Tenant
	wallet wallets.Wallet
}

func setup(t *testing.T) bundle {
	t.Helper()
	pool := testdb.New(t)
	tn := moneytest.NewTenant(t, pool)
	return bundle{pool: pool, tenant: tn, wallet: moneytest.Wallet(t, pool, tn, moneytest.WalletOpts{})}
}

func (b bundle) topup(amount int64) ledger.Movement {
	return ledger.Movement{
		MerchantID: b.tenant.MerchantID, IntegrationID: b.tenant.IntegrationID, Type: ledger.TypeTopup,
		WalletID: b.wallet.ID, Currency: "EUR", Amount: amount,
		Entries: []ledger.Entry{
			{Account: ledger.TopupClearing(b.tenant.MerchantID, "adyen"), Amount: -amount},
			{Account: ledger.WalletActual(b.wallet.ID), Amount: amount},
		},
		References: ledger.References{Provider: "adyen", SettlementReference: ids.New("ref")},
		Context:    ledger.Context{TerminalID: "till-04"},
	}
}

func (b bundle) post(t *testing.T, m ledger.Movement) (ledger.Transaction, error) {
	t.Helper()
	return dbx.InTxValue(context.Background(), b.pool, func(ctx context.Context, q *db.Queries) (ledger.Transaction, error) {
		if _, err := wallets.GetForUpdate(ctx, q, m.MerchantID, m.WalletID); err != nil {
			return ledger.Transaction{}, err
		}
		return ledger.Post(ctx, q, m)
	})
}

func TestPost(t *testing.T) {
	t.Parallel()

	t.Run("BooksEntriesBalanceAndSnapshot", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		txn, err := b.post(t, b.topup(5000))
		require.NoError(t, err)
		require.Equal(t, int64(5000), txn.ActualDelta)
		require.Zero(t, txn.PromoDelta)
		require.Equal(t, int64(5000), txn.BalanceAfter.Actual)
		require.Equal(t, b.wallet.CustomerID, txn.CustomerID)
		require.Equal(t, "till-04", txn.Context.TerminalID)

		got, err := ledger.Get(context.Background(), db.New(b.pool), b.tenant.MerchantID, txn.ID)
		require.NoError(t, err)
		require.Len(t, got.Entries, 2)
		require.Equal(t, txn.BalanceAfter, got.BalanceAfter)
		w, err := wallets.Get(context.Background(), db.New(b.pool), b.tenant.MerchantID, b.wallet.ID)
		require.NoError(t, err)
		require.Equal(t, int64(5000), w.Balance.Actual)
	})

	refused := map[string]func(b bundle) ledger.Movement{
		"Unbalanced": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries[0].Amount = -99
			return m
		},
		"OneEntry": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries = m.Entries[1:]
			return m
		},
		"ActualIntoPromo": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries[1].Account = ledger.WalletPromoAvailable(b.wallet.ID)
			return m
		},
		"AnotherWallet": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries[1].Account = ledger.WalletActual(ids.New(ids.Wallet))
			return m
		},
		"AnotherMerchant": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries[0].Account = ledger.TopupClearing(ids.New(ids.Merchant), "adyen")
			return m
		},
		"MalformedAccount": func(b bundle) ledger.Movement {
			m := b.topup(100)
			m.Entries[0].Account = "cash"
			return m
		},
		"ZeroEntry": func(b bundle) ledger.Movement {
			m := b.topup(0)
			return m
		},
	}
	for name, build := range refused {
		t.Run("Refuses"+name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.post(t, build(b))
			require.ErrorIs(t, err, ledger.ErrUnbalanced)
		})
	}

	t.Run("RefusesOverdrawAtTheDatabase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.topup(-100) // a debit of a wallet holding nothing
		m.Amount = 100
		_, err := b.post(t, m)
		require.ErrorIs(t, err, ledger.ErrNegativeBalance)
	})

	t.Run("RefusesAForeignWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.topup(100)
		m.MerchantID = moneytest.NewTenant(t, b.pool).MerchantID
		m.Entries[0].Account = ledger.TopupClearing(m.MerchantID, "adyen")
		_, err := dbx.InTxValue(context.Background(), b.pool, func(ctx context.Context, q *db.Queries) (ledger.Transaction, error) {
			return ledger.Post(ctx, q, m)
		})
		require.ErrorIs(t, err, ledger.ErrNotFound)
	})

	t.Run("RefusesASettlementTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := b.topup(100)
		_, err := b.post(t, first)
		require.NoError(t, err)
		again := b.topup(100)
		again.References = first.References
		_, err = b.post(t, again)
		require.ErrorIs(t, err, ledger.ErrDuplicateSettlement)
	})
}

// The database enforces the ledger's rules by itself, whatever the Go code does.
func TestDatabaseGuards(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	exec := func(t *testing.T, pool *pgxpool.Pool, sqls ...string) error {
		t.Helper()
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		for _, s := range sqls {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	}
	insertTxn := func(b bundle, id string) string {
		return `INSERT INTO ledger_transactions (id, merchant_id, integration_id, type, wallet_id, customer_id, currency,
			amount_minor, actual_delta_minor, promo_delta_minor, actual_after_minor, promo_available_after_minor, promo_locked_after_minor)
			VALUES ('` + id + `', '` + b.tenant.MerchantID + `', '` + b.tenant.IntegrationID + `', 'topup', '` + b.wallet.ID + `', '` +
			b.wallet.CustomerID + `', 'EUR', 100, 100, 0, 100, 0, 0)`
	}
	entry := func(b bundle, id, account string, amount string) string {
		return `INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor)
			VALUES ('` + id + `', '` + b.tenant.MerchantID + `', '` + account + `', 'EUR', ` + amount + `)`
	}
	// entries books several entries in ONE statement, as ledger.Post does:
	// the guard checks a transaction at the end of every statement that
	// books on it (guards_test.go), so a transaction's entries come together.
	entries := func(b bundle, id string, lines ...[2]string) string {
		sql := `INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor) VALUES `
		for i, l := range lines {
			if i > 0 {
				sql += `, `
			}
			sql += `('` + id + `', '` + b.tenant.MerchantID + `', '` + l[0] + `', 'EUR', ` + l[1] + `)`
		}
		return sql
	}

	t.Run("RefusesUnbalancedEntries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := ids.New(ids.Transaction)
		err := exec(t, b.pool, insertTxn(b, id), entries(b, id,
			[2]string{string(ledger.WalletActual(b.wallet.ID)), "100"},
			[2]string{string(ledger.TopupClearing(b.tenant.MerchantID, "x")), "-99"}))
		require.ErrorContains(t, err, "does not sum to zero")
	})
	t.Run("RefusesATransactionWithOneEntry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := ids.New(ids.Transaction)
		err := exec(t, b.pool, insertTxn(b, id), entry(b, id, string(ledger.WalletActual(b.wallet.ID)), "100"))
		require.ErrorContains(t, err, "at least 2")
	})
	t.Run("RefusesActualMovingIntoPromo", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := ids.New(ids.Transaction)
		err := exec(t, b.pool, insertTxn(b, id), entries(b, id,
			[2]string{string(ledger.WalletPromoAvailable(b.wallet.ID)), "100"},
			[2]string{string(ledger.TopupClearing(b.tenant.MerchantID, "x")), "-100"}))
		require.ErrorContains(t, err, "money class")
	})
	t.Run("RefusesUpdateAndDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		txn, err := b.post(t, b.topup(100))
		require.NoError(t, err)
		require.ErrorContains(t, exec(t, b.pool, `UPDATE ledger_entries SET amount_minor = 1 WHERE transaction_id = '`+txn.ID+`'`), "append-only")
		require.ErrorContains(t, exec(t, b.pool, `DELETE FROM ledger_entries WHERE transaction_id = '`+txn.ID+`'`), "append-only")
		require.ErrorContains(t, exec(t, b.pool, `UPDATE ledger_transactions SET amount_minor = 1 WHERE id = '`+txn.ID+`'`), "append-only")
		require.ErrorContains(t, exec(t, b.pool, `TRUNCATE ledger_entries CASCADE`), "append-only")
	})
	t.Run("RefusesANegativeBalance", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.ErrorContains(t, exec(t, b.pool, `UPDATE wallets SET actual_minor = -1 WHERE id = '`+b.wallet.ID+`'`), "wallets_actual_minor_check")
	})
}

func TestGrantStateMachineGuard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	g := moneytest.Grant(t, b.pool, b.tenant, b.wallet.ID, 500, time.Hour, false)
	refuse := func(sql string) {
		t.Helper()
		_, err := b.pool.Exec(ctx, sql, g.ID)
		require.ErrorContains(t, err, "grant")
	}
	refuse(`UPDATE grants SET state = 'locked' WHERE id = $1`)      // nothing goes back to locked
	refuse(`UPDATE grants SET original_minor = 9999 WHERE id = $1`) // only state and remaining change
	_, err := b.pool.Exec(ctx, `UPDATE grants SET state = 'expired', remaining_minor = 0 WHERE id = $1`, g.ID)
	require.NoError(t, err)                                                            // (the ledger is left unbalanced on purpose: this test checks the trigger only)
	refuse(`UPDATE grants SET state = 'available', remaining_minor = 1 WHERE id = $1`) // expired is final
}
