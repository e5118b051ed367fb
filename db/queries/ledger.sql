-- name: LedgerPost :one
-- The one call that moves money (ledger_post, 00018): the wallet's balance
-- deltas, the transaction with the balance it left, its entries, checked
-- by the ledger's triggers. No row: no such wallet.
SELECT * FROM ledger_post(@merchant_id::text, @wallet_id::text, @currency::text,
    @actual_delta::bigint, @promo_available_delta::bigint, @promo_locked_delta::bigint, @held_actual_delta::bigint,
    @id::text, @integration_id::text, @txn_type::text, @amount_minor::bigint, @promo_delta::bigint,
    sqlc.narg(payment_id)::text, sqlc.narg(grant_id)::text, sqlc.narg(settlement_reference)::text, sqlc.narg(provider)::text,
    sqlc.narg(sku_id)::text, sqlc.narg(pos_reference)::text,
    sqlc.narg(terminal_id)::text, sqlc.narg(location_id)::text, sqlc.narg(operator_id)::text,
    @accounts::text[], @amounts::bigint[]);

-- name: LedgerTransactionGet :one
SELECT * FROM ledger_transactions
WHERE merchant_id = @merchant_id AND id = @id;

-- name: LedgerEntriesOf :many
-- By (merchant_id, transaction_id), the index's key; id orders one
-- transaction's entries, which one statement inserted on one node.
SELECT * FROM ledger_entries
WHERE merchant_id = @merchant_id AND transaction_id = @transaction_id
ORDER BY id;

-- name: LedgerTransactionBySettlement :one
SELECT id FROM ledger_transactions
WHERE merchant_id = @merchant_id AND provider = @provider AND settlement_reference = @settlement_reference;
