package ledger_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// The balance guard of db/migrations/00003_ledger.sql: a statement-level
// trigger checks, at the end of every statement that inserts entries, every
// transaction the statement booked on (with all of its entries); a deferred
// trigger refuses at commit a transaction left without entries. These tests
// write SQL straight to the database, past ledger.Post's own checks.

// line is one entry to book; merchant and currency default to the bundle's
// merchant and EUR.
type line struct {
	account  ledger.Account
	amount   int64
	merchant string
	currency string
}

func (b bundle) txnSQL(id string) string {
	return fmt.Sprintf(`INSERT INTO ledger_transactions (id, merchant_id, integration_id, type, wallet_id, customer_id, currency,
		amount_minor, actual_delta_minor, promo_delta_minor, actual_after_minor, promo_available_after_minor, promo_locked_after_minor)
		VALUES ('%s', '%s', '%s', 'topup', '%s', '%s', 'EUR', 100, 100, 0, 100, 0, 0)`,
		id, b.tenant.MerchantID, b.tenant.IntegrationID, b.wallet.ID, b.wallet.CustomerID)
}

func (b bundle) values(id string, lines []line) []string {
	rows := make([]string, len(lines))
	for i, l := range lines {
		merchant, currency := l.merchant, l.currency
		if merchant == "" {
			merchant = b.tenant.MerchantID
		}
		if currency == "" {
			currency = "EUR"
		}
		rows[i] = fmt.Sprintf(`('%s', '%s', '%s', '%s', %d)`, id, merchant, l.account, currency, l.amount)
	}
	return rows
}

// entriesSQL books lines on transaction id in ONE statement.
func (b bundle) entriesSQL(id string, lines ...line) string {
	return `INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor) VALUES ` +
		strings.Join(b.values(id, lines), ", ")
}

// inTx runs steps in one transaction and commits; the first error wins.
func (b bundle) inTx(t *testing.T, steps ...func(ctx context.Context, tx pgx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	for _, step := range steps {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func sqlStep(sql string) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sql)
		return err
	}
}

// book writes a transaction row and its lines in one transaction.
func (b bundle) book(t *testing.T, lines ...line) error {
	t.Helper()
	id := ids.New(ids.Transaction)
	return b.inTx(t, sqlStep(b.txnSQL(id)), sqlStep(b.entriesSQL(id, lines...)))
}

// requireForeignKeyRefused: err is the refusal of an entry whose
// (merchant_id, transaction_id) names no transaction.
func requireForeignKeyRefused(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	if testdb.Citus() && pgErr.Code == "23514" {
		// Each merchant's entries go to that merchant's shard, where the
		// balance guard may refuse the lone entry before the key is checked.
		requireRefused(t, err, "entries")
		return
	}
	require.Equal(t, "23503", pgErr.Code, pgErr.Message)
	require.Equal(t, "ledger_entries_transaction_id_fkey", dbx.ConstraintName(pgErr))
}

// requireRefused: err is the balance guard's refusal, saying msg.
//
// On Citus (make test-citus) the guard runs on the shard, and the
// coordinator relays its refusal in one of three shapes: as raised; without
// the constraint's name; or, for a refusal raised while rows are copied to
// the shard (INSERT … SELECT, COPY) or at commit (the deferred check), as an
// internal error (XX000) whose message is the shard's or "could not commit
// transaction". The callers then check that nothing was written.
func requireRefused(t *testing.T, err error, msg string, msgAndArgs ...any) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, msgAndArgs...)
	if testdb.Citus() && pgErr.Code == "XX000" {
		require.True(t, strings.Contains(pgErr.Message, msg) || strings.Contains(pgErr.Message, "could not commit transaction"),
			"Citus relayed %q", pgErr.Message)
		return
	}
	require.Equal(t, "23514", pgErr.Code, msgAndArgs...)
	if !testdb.Citus() || pgErr.ConstraintName != "" {
		require.Equal(t, "ledger_entries_balanced", dbx.ConstraintName(pgErr), msgAndArgs...)
	}
	require.Contains(t, pgErr.Message, msg, msgAndArgs...)
}

func (b bundle) entryCount(t *testing.T, txnID string) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger_entries WHERE transaction_id = $1`, txnID).Scan(&n))
	return n
}

func TestBalanceGuard(t *testing.T) {
	t.Parallel()

	t.Run("AcceptsABalancedTransactionOfBothClasses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.book(t,
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "adyen"), amount: -60},
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "stripe"), amount: -40},
			line{account: ledger.WalletActual(b.wallet.ID), amount: 100},
			line{account: ledger.PromoFunding(b.tenant.MerchantID), amount: -10},
			line{account: ledger.WalletPromoLocked(b.wallet.ID), amount: 10}))
	})

	t.Run("RefusesEntriesUnbalancedPerCurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Zero in total, but +100 EUR and -100 USD.
		err := b.book(t,
			line{account: ledger.WalletActual(b.wallet.ID), amount: 100},
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100, currency: "USD"})
		requireRefused(t, err, "does not sum to zero per currency")
	})

	t.Run("RefusesActualAndPromoCrossing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Zero in total, but actual -100 and promo +100.
		err := b.book(t,
			line{account: ledger.WalletActual(b.wallet.ID), amount: -100},
			line{account: ledger.WalletPromoAvailable(b.wallet.ID), amount: 100})
		requireRefused(t, err, "money class")
		// Actual money paid in, 40 of it booked as promo.
		err = b.book(t,
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
			line{account: ledger.WalletActual(b.wallet.ID), amount: 60},
			line{account: ledger.WalletPromoAvailable(b.wallet.ID), amount: 40})
		requireRefused(t, err, "money class")
	})

	t.Run("RefusesFewerThanTwoEntries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		err := b.book(t, line{account: ledger.WalletActual(b.wallet.ID), amount: 100})
		requireRefused(t, err, "has 1 entries; at least 2 are required")
	})

	t.Run("RefusesATransactionWithoutEntriesAtCommit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		tx, err := b.pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, b.txnSQL(ids.New(ids.Transaction)))
		require.NoError(t, err, "the transaction row alone is accepted until commit")
		requireRefused(t, tx.Commit(ctx), "has 0 entries; at least 2 are required")
	})

	t.Run("RefusesATransactionWhoseEntriesWereRolledBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := ids.New(ids.Transaction)
		err := b.inTx(t, sqlStep(b.txnSQL(id)), sqlStep(`SAVEPOINT entries`),
			sqlStep(b.entriesSQL(id,
				line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
				line{account: ledger.WalletActual(b.wallet.ID), amount: 100})),
			sqlStep(`ROLLBACK TO SAVEPOINT entries`))
		requireRefused(t, err, "has 0 entries")
	})

	t.Run("RefusesEntriesOfAnotherMerchant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := moneytest.NewTenant(t, b.pool).MerchantID
		// An entry names its transaction with its own merchant_id (the
		// shard key, 00017): one stamped with another merchant names no
		// transaction of that merchant, and the foreign key refuses it.
		err := b.book(t,
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
			line{account: ledger.WalletActual(b.wallet.ID), amount: 100, merchant: other})
		requireForeignKeyRefused(t, err)
		// Another merchant's own account (consistent with its merchant_id).
		err = b.book(t,
			line{account: ledger.TopupClearing(other, "x"), amount: -100, merchant: other},
			line{account: ledger.WalletActual(b.wallet.ID), amount: 100})
		requireForeignKeyRefused(t, err)
	})

	t.Run("RefusesEntriesOfAnotherWallet", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sibling := moneytest.Wallet(t, b.pool, b.tenant, moneytest.WalletOpts{}) // same merchant, same currency
		err := b.book(t,
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
			line{account: ledger.WalletActual(sibling.ID), amount: 100})
		requireRefused(t, err, "another merchant, currency or wallet")
	})

	t.Run("RefusesEntriesOfAnotherCurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Balanced in USD, on a EUR transaction.
		err := b.book(t,
			line{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100, currency: "USD"},
			line{account: ledger.WalletActual(b.wallet.ID), amount: 100, currency: "USD"})
		requireRefused(t, err, "another merchant, currency or wallet")
	})

	t.Run("RechecksEntriesAppendedToACommittedTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		txn, err := b.post(t, b.topup(100))
		require.NoError(t, err)
		sibling := moneytest.Wallet(t, b.pool, b.tenant, moneytest.WalletOpts{})
		for name, lines := range map[string][]line{
			"one entry unbalancing it": {{account: ledger.WalletActual(b.wallet.ID), amount: 1}},
			"a pair crossing classes": {
				{account: ledger.WalletActual(b.wallet.ID), amount: -1},
				{account: ledger.WalletPromoAvailable(b.wallet.ID), amount: 1}},
			"a pair of another wallet": {
				{account: ledger.TopupClearing(b.tenant.MerchantID, "adyen"), amount: -1},
				{account: ledger.WalletActual(sibling.ID), amount: 1}},
			"a pair of another currency": {
				{account: ledger.TopupClearing(b.tenant.MerchantID, "adyen"), amount: -1, currency: "USD"},
				{account: ledger.WalletActual(b.wallet.ID), amount: 1, currency: "USD"}},
		} {
			var pgErr *pgconn.PgError
			require.ErrorAs(t, b.inTx(t, sqlStep(b.entriesSQL(txn.ID, lines...))), &pgErr, name)
			if !testdb.Citus() || pgErr.ConstraintName != "" {
				require.Equal(t, "ledger_entries_balanced", dbx.ConstraintName(pgErr), name)
			}
		}
		require.Equal(t, 2, b.entryCount(t, txn.ID))
	})

	// Whatever statement inserts the entries, the check runs when it ends.
	t.Run("ChecksEveryKindOfInsert", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		txn, err := b.post(t, b.topup(100))
		require.NoError(t, err)
		cols := []string{"transaction_id", "merchant_id", "account", "currency", "amount_minor"}
		one := b.values(txn.ID, []line{{account: ledger.WalletActual(b.wallet.ID), amount: 1}})[0]
		statements := map[string]func(ctx context.Context, tx pgx.Tx) error{
			"INSERT ... SELECT": sqlStep(`INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor)
				SELECT * FROM (VALUES ` + one + `) v`),
			"INSERT in a CTE": sqlStep(`WITH i AS (INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor)
				VALUES ` + one + ` RETURNING id) SELECT count(*) FROM i`),
			"MERGE": sqlStep(`MERGE INTO ledger_entries e USING (VALUES ` + one + `) v (transaction_id, merchant_id, account, currency, amount_minor)
				ON false WHEN NOT MATCHED THEN INSERT (transaction_id, merchant_id, account, currency, amount_minor)
				VALUES (v.transaction_id, v.merchant_id, v.account, v.currency, v.amount_minor)`),
			"COPY": func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, cols, pgx.CopyFromRows([][]any{
					{txn.ID, b.tenant.MerchantID, string(ledger.WalletActual(b.wallet.ID)), "EUR", int64(1)},
				}))
				return err
			},
		}
		for name, step := range statements {
			if name == "MERGE" && testdb.Citus() {
				// Citus refuses MERGE into a table with a volatile default
				// (created_at) before the guard runs.
				require.ErrorContains(t, b.inTx(t, step), "MERGE", name)
				continue
			}
			requireRefused(t, b.inTx(t, step), "does not sum to zero", name)
		}
		require.Equal(t, 2, b.entryCount(t, txn.ID))
	})

	t.Run("ChecksEveryTransactionAStatementBooksOn", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		good, bad := ids.New(ids.Transaction), ids.New(ids.Transaction)
		balanced := b.values(good, []line{
			{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
			{account: ledger.WalletActual(b.wallet.ID), amount: 100}})
		unbalanced := b.values(bad, []line{
			{account: ledger.TopupClearing(b.tenant.MerchantID, "x"), amount: -100},
			{account: ledger.WalletActual(b.wallet.ID), amount: 99}})
		for _, rows := range [][]string{append(balanced, unbalanced...), append(unbalanced, balanced...)} {
			err := b.inTx(t, sqlStep(b.txnSQL(good)), sqlStep(b.txnSQL(bad)),
				sqlStep(`INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor) VALUES `+strings.Join(rows, ", ")))
			requireRefused(t, err, "ledger transaction "+bad+" does not sum to zero")
		}
	})

	// The check runs when the statement ends, not at commit: a transaction's
	// entries come in one statement (ledger.Post's), and one booked over two
	// statements is refused at the first.
	t.Run("ChecksAtTheEndOfEachStatement", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := ids.New(ids.Transaction)
		ctx := context.Background()
		tx, err := b.pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, b.txnSQL(id))
		require.NoError(t, err)
		_, err = tx.Exec(ctx, b.entriesSQL(id, line{account: ledger.WalletActual(b.wallet.ID), amount: 100}))
		requireRefused(t, err, "has 1 entries; at least 2 are required")
	})

	// ledger.Post books the wallet change, the transaction and its entries in
	// ONE statement of data-modifying CTEs. The entries check fires when that
	// whole statement ends, so the transaction row of the sibling CTE is
	// visible to it (the merchant, currency and wallet comparison needs it),
	// and the error comes from the statement itself, before any commit.
	t.Run("ChecksLedgerPostsOneStatement", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sibling := moneytest.Wallet(t, b.pool, b.tenant, moneytest.WalletOpts{})
		clearing := string(ledger.TopupClearing(b.tenant.MerchantID, "adyen"))
		// post runs the statement and, when it passes, commits: the errors
		// of each, apart.
		post := func(accounts []string, amounts []int64) (statement, commit error) {
			ctx := context.Background()
			tx, err := b.pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = db.New(tx).LedgerPost(ctx, db.LedgerPostParams{
				ActualDelta: 100, MerchantID: b.tenant.MerchantID, WalletID: b.wallet.ID, Currency: "EUR",
				ID: ids.New(ids.Transaction), IntegrationID: b.tenant.IntegrationID, TxnType: string(ledger.TypeTopup),
				AmountMinor: 100, Accounts: accounts, Amounts: amounts,
			})
			if err != nil {
				return err, nil
			}
			return nil, tx.Commit(ctx)
		}
		refusedByTheStatement := func(msg string, accounts []string, amounts []int64) {
			t.Helper()
			statement, _ := post(accounts, amounts)
			requireRefused(t, statement, msg)
		}
		wallet := string(ledger.WalletActual(b.wallet.ID))
		refusedByTheStatement("does not sum to zero", []string{clearing, wallet}, []int64{-99, 100})
		refusedByTheStatement("has 1 entries", []string{wallet}, []int64{100})
		refusedByTheStatement("another merchant, currency or wallet", []string{clearing, string(ledger.WalletActual(sibling.ID))}, []int64{-100, 100})
		refusedByTheStatement("money class", []string{clearing, string(ledger.WalletPromoLocked(b.wallet.ID))}, []int64{-100, 100})

		statement, commit := post(nil, nil) // no entries at all: only the commit can tell
		require.NoError(t, statement)
		requireRefused(t, commit, "has 0 entries")

		statement, commit = post([]string{clearing, wallet}, []int64{-100, 100})
		require.NoError(t, statement)
		require.NoError(t, commit)
	})

	t.Run("RefusesChangingOrEmptyingTransactions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		txn, err := b.post(t, b.topup(100))
		require.NoError(t, err)
		for _, sql := range []string{
			`UPDATE ledger_entries SET account = '` + string(ledger.TopupClearing(b.tenant.MerchantID, "other")) + `' WHERE transaction_id = '` + txn.ID + `' AND amount_minor < 0`,
			`DELETE FROM ledger_entries WHERE transaction_id = '` + txn.ID + `' AND amount_minor < 0`,
			`DELETE FROM ledger_transactions WHERE id = '` + txn.ID + `'`,
			`UPDATE ledger_transactions SET wallet_id = wallet_id WHERE id = '` + txn.ID + `'`,
			`TRUNCATE ledger_transactions CASCADE`,
			`TRUNCATE ledger_entries`,
		} {
			require.ErrorContains(t, b.inTx(t, sqlStep(sql)), "append-only", sql)
		}
		require.Equal(t, 2, b.entryCount(t, txn.ID))
	})
}

// TestBalanceGuardWork pins the cost of the guard: one entries check per
// statement (not per entry) and one cheap no-entries check per transaction,
// whatever the number of entries, all by index: on a fresh database (empty
// tables, as after a deploy) no plan of the guard may scan a ledger table,
// or it would cost more with every movement. It counts the trigger
// functions' calls (track_functions needs a superuser: DATABASE_URL's user
// on the test's database).
func TestBalanceGuardWork(t *testing.T) {
	t.Parallel()
	if testdb.Citus() {
		t.Skip("on Citus the guard's functions run on the workers, whose statistics this test does not read")
	}
	b := setup(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	require.NoError(t, err)
	cfg.Database = b.pool.Config().ConnConfig.Database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	var super bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super))
	if !super {
		t.Skip("DATABASE_URL's user is no superuser: cannot turn on track_functions")
	}
	_, err = conn.Exec(ctx, `SET track_functions = 'pl'`)
	require.NoError(t, err)

	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	m := b.topup(100) // five entries over both classes, in ledger.Post's one call
	m.Entries = []ledger.Entry{
		{Account: ledger.TopupClearing(b.tenant.MerchantID, "adyen"), Amount: -60},
		{Account: ledger.TopupClearing(b.tenant.MerchantID, "stripe"), Amount: -40},
		{Account: ledger.WalletActual(b.wallet.ID), Amount: 100},
		{Account: ledger.PromoFunding(b.tenant.MerchantID), Amount: -10},
		{Account: ledger.WalletPromoLocked(b.wallet.ID), Amount: 10},
	}
	const posts = 10 // past PL/pgSQL's five custom plans, to its cached generic one
	for range posts {
		m.References.SettlementReference = ids.New("ref")
		_, err = ledger.Post(ctx, db.New(tx), m)
		require.NoError(t, err)
	}
	_, err = tx.Exec(ctx, `SET CONSTRAINTS ALL IMMEDIATE`) // run the deferred checks now
	require.NoError(t, err)
	calls := map[string]int64{}
	rows, err := tx.Query(ctx, `SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE funcname LIKE 'ledger\_%'`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		var n int64
		require.NoError(t, rows.Scan(&name, &n))
		calls[name] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int64{
		"ledger_post":                       posts, // the one call of each Post (00018)
		"ledger_entries_check_balanced":     posts, // one per Post, not one per entry
		"ledger_transactions_check_entries": posts, // one per transaction
	}, calls)
	var seqScans int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables
		WHERE relname IN ('ledger_entries', 'ledger_transactions')`).Scan(&seqScans))
	require.Zero(t, seqScans, "sequential scans of the ledger tables")
	require.NoError(t, tx.Commit(ctx))
}
