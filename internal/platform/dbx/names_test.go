package dbx_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/dbx"
)

// TestNamesOfErrorsFromShards: Citus relays an error raised on a shard
// with only its code and message, which name the shard's copies; the names
// the migrations gave come back either way.
func TestNamesOfErrorsFromShards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err               *pgconn.PgError
		table, constraint string
	}{
		{ // one database: the fields are set
			&pgconn.PgError{Code: "23505", ConstraintName: "customers_phone_key", TableName: "customers",
				Message: `duplicate key value violates unique constraint "customers_phone_key"`},
			"customers", "customers_phone_key",
		},
		{ // Citus: the message only
			&pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "ledger_transactions_settlement_key_102071"`},
			"", "ledger_transactions_settlement_key",
		},
		{
			&pgconn.PgError{Code: "23514", Message: `new row for relation "wallets_102170" violates check constraint "wallets_actual_minor_check"`},
			"wallets", "wallets_actual_minor_check",
		},
		{
			&pgconn.PgError{Code: "23503", Message: `insert or update on table "ledger_entries_102045" violates foreign key constraint "ledger_entries_transaction_id_fkey_102045"`},
			"ledger_entries", "ledger_entries_transaction_id_fkey",
		},
		{ // a guard's own refusal names no constraint in its message
			&pgconn.PgError{Code: "23514", Message: "ledger transaction txn_1 does not sum to zero per currency and money class"},
			"", "",
		},
	} {
		require.Equal(t, tc.constraint, dbx.ConstraintName(tc.err), tc.err.Message)
		require.Equal(t, tc.table, dbx.TableName(tc.err), tc.err.Message)
	}
	shard := fmt.Errorf("posting: %w", &pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "customers_phone_key_102033"`})
	require.True(t, dbx.IsUniqueViolation(shard, "customers_phone_key"))
	require.False(t, dbx.IsUniqueViolation(shard, "customers_card_fingerprint_key"))
}
