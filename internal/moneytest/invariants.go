package moneytest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/ledger"
)

// ledgerInvariants are queries that must return no rows on any database,
// whatever ran on it: each names what it proves. Every join and grouping
// carries merchant_id, so that on Citus each runs shard by shard.
var ledgerInvariants = []struct{ name, sql string }{
	{"all entries sum to zero per currency and money class", `
		SELECT currency, money_class FROM ledger_entries GROUP BY 1, 2 HAVING sum(amount_minor) <> 0`},
	{"every transaction balances per money class (promo and actual never cross)", `
		SELECT transaction_id FROM ledger_entries GROUP BY merchant_id, transaction_id, currency, money_class HAVING sum(amount_minor) <> 0`},
	{"every transaction has at least two entries", `
		SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.merchant_id = t.merchant_id AND e.transaction_id = t.id
		GROUP BY t.merchant_id, t.id HAVING count(e.id) < 2`},
	{"each wallet's stored balance equals the sum of its entries", `
		SELECT w.id FROM wallets w
		LEFT JOIN (SELECT merchant_id, wallet_id,
		                  sum(amount_minor) FILTER (WHERE account LIKE '%:actual') AS actual,
		                  sum(amount_minor) FILTER (WHERE account LIKE '%:promo_available') AS available,
		                  sum(amount_minor) FILTER (WHERE account LIKE '%:promo_locked') AS locked
		           FROM ledger_entries WHERE wallet_id IS NOT NULL GROUP BY merchant_id, wallet_id) e
		       ON e.merchant_id = w.merchant_id AND e.wallet_id = w.id
		WHERE w.actual_minor <> coalesce(e.actual, 0)
		   OR w.promo_available_minor <> coalesce(e.available, 0)
		   OR w.promo_locked_minor <> coalesce(e.locked, 0)`},
	{"no balance is negative", `
		SELECT id FROM wallets WHERE actual_minor < 0 OR promo_available_minor < 0 OR promo_locked_minor < 0`},
	{"grant remainders per state equal the promo balances", `
		SELECT w.id FROM wallets w
		LEFT JOIN (SELECT merchant_id, wallet_id,
		                  sum(remaining_minor) FILTER (WHERE state = 'available') AS available,
		                  sum(remaining_minor) FILTER (WHERE state = 'locked') AS locked
		           FROM grants GROUP BY merchant_id, wallet_id) g ON g.merchant_id = w.merchant_id AND g.wallet_id = w.id
		WHERE w.promo_available_minor <> coalesce(g.available, 0) OR w.promo_locked_minor <> coalesce(g.locked, 0)`},
	{"a pending_proof wallet has no available promo", `
		SELECT id FROM wallets WHERE status = 'pending_proof' AND promo_available_minor <> 0`},
	{"next_promo_expiry_at is the earliest live grant's expiry", `
		SELECT w.id FROM wallets w
		LEFT JOIN (SELECT merchant_id, wallet_id, min(expires_at) AS next FROM grants WHERE state IN ('locked', 'available') GROUP BY merchant_id, wallet_id) g
		       ON g.merchant_id = w.merchant_id AND g.wallet_id = w.id
		WHERE w.next_promo_expiry_at IS DISTINCT FROM g.next`},
	{"each transaction's deltas are its wallet entries", `
		SELECT t.id FROM ledger_transactions t
		LEFT JOIN (SELECT merchant_id, transaction_id,
		                  sum(amount_minor) FILTER (WHERE account LIKE 'wallet:%:actual') AS actual,
		                  sum(amount_minor) FILTER (WHERE account LIKE 'wallet:%:promo_%') AS promo
		           FROM ledger_entries GROUP BY merchant_id, transaction_id) e ON e.merchant_id = t.merchant_id AND e.transaction_id = t.id
		WHERE t.actual_delta_minor <> coalesce(e.actual, 0) OR t.promo_delta_minor <> coalesce(e.promo, 0)`},
	{"each wallet's latest snapshot is its balance", `
		SELECT w.id FROM wallets w
		JOIN LATERAL (SELECT * FROM ledger_transactions t WHERE t.merchant_id = w.merchant_id AND t.wallet_id = w.id ORDER BY created_at DESC, id DESC LIMIT 1) t ON true
		WHERE (t.actual_after_minor, t.promo_available_after_minor, t.promo_locked_after_minor) <>
		      (w.actual_minor, w.promo_available_minor, w.promo_locked_minor)
		   OR t.next_promo_expiry_after IS DISTINCT FROM w.next_promo_expiry_at`},
	{"each hold account belongs to its payment, its payment's wallet and merchant", `
		SELECT e.account FROM ledger_entries e
		JOIN ledger_transactions t ON t.merchant_id = e.merchant_id AND t.id = e.transaction_id
		LEFT JOIN payments p ON p.merchant_id = e.merchant_id AND p.id = split_part(e.account, ':', 2)
		WHERE e.account LIKE 'hold:%'
		  AND (p.id IS NULL OR p.wallet_id <> t.wallet_id
		       OR p.currency <> e.currency OR t.payment_id IS DISTINCT FROM p.id)`},
	{"each hold holds its payment's uncaptured, unreleased amount, per money class", `
		SELECT p.id FROM payments p
		LEFT JOIN (SELECT merchant_id, split_part(account, ':', 2) AS payment_id,
		                  sum(amount_minor) FILTER (WHERE money_class = 'actual') AS actual,
		                  sum(amount_minor) FILTER (WHERE money_class = 'promo') AS promo
		           FROM ledger_entries WHERE account LIKE 'hold:%' GROUP BY 1, 2) h ON h.merchant_id = p.merchant_id AND h.payment_id = p.id
		WHERE coalesce(h.actual, 0) <> CASE WHEN p.status = 'authorized' THEN p.actual_applied_minor - p.actual_captured_minor ELSE 0 END
		   OR coalesce(h.promo, 0) <> CASE WHEN p.status = 'authorized' THEN p.promo_applied_minor - p.promo_captured_minor ELSE 0 END`},
	{"each wallet's held actual money is the actual money its payments hold", `
		SELECT w.id FROM wallets w
		LEFT JOIN (SELECT p.merchant_id, p.wallet_id, sum(e.amount_minor) AS held
		           FROM ledger_entries e JOIN payments p ON p.merchant_id = e.merchant_id AND p.id = split_part(e.account, ':', 2)
		           WHERE e.account LIKE 'hold:%:actual' GROUP BY p.merchant_id, p.wallet_id) h ON h.merchant_id = w.merchant_id AND h.wallet_id = w.id
		WHERE w.held_actual_minor <> coalesce(h.held, 0)`},
	{"no wallet's actual money with its holds passes the ceiling", `
		SELECT id FROM wallets WHERE actual_minor + held_actual_minor > 1000000000000`},
	{"each payment's refunds add up to its refunded totals, within what it captured, per money class", `
		SELECT p.id FROM payments p
		LEFT JOIN (SELECT merchant_id, payment_id, sum(actual_refunded_minor) AS actual, sum(promo_refunded_minor) AS promo,
		                  sum(promo_forfeited_minor) AS forfeited
		           FROM refunds GROUP BY merchant_id, payment_id) r ON r.merchant_id = p.merchant_id AND r.payment_id = p.id
		WHERE (coalesce(r.actual, 0), coalesce(r.promo, 0), coalesce(r.forfeited, 0))
		      <> (p.actual_refunded_minor, p.promo_refunded_minor, p.promo_forfeited_minor)
		   OR p.actual_refunded_minor > p.actual_captured_minor
		   OR p.promo_refunded_minor + p.promo_forfeited_minor > p.promo_captured_minor`},
	{"each refund is one payment_refund transaction of its payment with its split", `
		SELECT t.id FROM ledger_transactions t
		FULL JOIN refunds r ON r.merchant_id = t.merchant_id AND r.transaction_id = t.id
		WHERE (t.type = 'payment_refund' OR r.id IS NOT NULL)
		  AND (r.id IS NULL OR t.id IS NULL OR t.type <> 'payment_refund' OR t.payment_id IS DISTINCT FROM r.payment_id
		       OR t.amount_minor <> r.amount_minor OR t.actual_delta_minor <> r.actual_refunded_minor
		       OR t.promo_delta_minor <> r.promo_refunded_minor)`},
	{"grant history ends in the grant's state", `
		SELECT g.id FROM grants g
		JOIN LATERAL (SELECT to_state FROM grant_events e WHERE e.merchant_id = g.merchant_id AND e.grant_id = g.id ORDER BY e.at DESC, e.id DESC LIMIT 1) e ON true
		WHERE e.to_state <> g.state`},
}

// CheckLedger proves the ledger's invariants over the whole database.
func CheckLedger(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	broken, err := LedgerViolations(ctx, pool)
	require.NoError(t, err)
	for name, bad := range broken {
		require.Empty(t, bad, "invariant broken: %s", name)
	}
	// The money class the database derived agrees with the Go rule, so
	// no entry moved value between an actual and a promo account.
	rows, err := pool.Query(ctx, `SELECT DISTINCT account, money_class FROM ledger_entries`)
	require.NoError(t, err)
	for rows.Next() {
		var account, class string
		require.NoError(t, rows.Scan(&account, &class))
		require.Equal(t, string(ledger.Account(account).Class()), class, account)
		require.True(t, ledger.Account(account).Valid(), account)
	}
	require.NoError(t, rows.Err())
}

// LedgerViolations runs every invariant query and returns, per invariant
// broken, the rows that break it (none: an empty map).
func LedgerViolations(ctx context.Context, pool *pgxpool.Pool) (map[string][]string, error) {
	out := map[string][]string{}
	for _, inv := range ledgerInvariants {
		rows, err := pool.Query(ctx, inv.sql)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", inv.name, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[inv.name] = append(out[inv.name], toString(vals))
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", inv.name, err)
		}
	}
	return out, nil
}

func toString(vals []any) string {
	out := ""
	for i, v := range vals {
		if i > 0 {
			out += " "
		}
		out += fmtAny(v)
	}
	return out
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "?"
}
