-- name: LedgerPost :one
-- The one statement that moves money: applies the wallet's balance deltas
-- and the change of the actual money its payments hold (the CHECKs refuse
-- a negative balance, and actual money that with the holds would pass the
-- ceiling), books the transaction with the
-- balance it left, and inserts its entries. The ledger's triggers check at
-- the end of this statement that the entries balance.
WITH moved AS (
    UPDATE wallets w
    SET actual_minor          = w.actual_minor + @actual_delta::bigint,
        promo_available_minor = w.promo_available_minor + @promo_available_delta::bigint,
        promo_locked_minor    = w.promo_locked_minor + @promo_locked_delta::bigint,
        held_actual_minor     = w.held_actual_minor + @held_actual_delta::bigint,
        next_promo_expiry_at  = (SELECT min(g.expires_at) FROM grants g
                                 WHERE g.merchant_id = w.merchant_id AND g.wallet_id = w.id AND g.state IN ('locked', 'available')),
        updated_at            = now()
    WHERE w.merchant_id = @merchant_id AND w.id = @wallet_id AND w.currency = @currency
    RETURNING w.id, w.merchant_id, w.customer_id, w.currency, w.actual_minor, w.promo_available_minor, w.promo_locked_minor, w.next_promo_expiry_at
), txn AS (
    INSERT INTO ledger_transactions (
        id, merchant_id, integration_id, type, wallet_id, customer_id, currency,
        amount_minor, actual_delta_minor, promo_delta_minor,
        actual_after_minor, promo_available_after_minor, promo_locked_after_minor, next_promo_expiry_after,
        payment_id, grant_id, settlement_reference, provider, sku_id, pos_reference,
        terminal_id, location_id, operator_id)
    SELECT @id::text, moved.merchant_id, @integration_id::text, @txn_type::text, moved.id, moved.customer_id, moved.currency,
        @amount_minor::bigint, @actual_delta::bigint, @promo_delta::bigint,
        moved.actual_minor, moved.promo_available_minor, moved.promo_locked_minor, moved.next_promo_expiry_at,
        sqlc.narg(payment_id)::text, sqlc.narg(grant_id)::text, sqlc.narg(settlement_reference)::text, sqlc.narg(provider)::text, sqlc.narg(sku_id)::text, sqlc.narg(pos_reference)::text,
        sqlc.narg(terminal_id)::text, sqlc.narg(location_id)::text, sqlc.narg(operator_id)::text
    FROM moved
    RETURNING *
), entries AS (
    INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor)
    SELECT txn.id, txn.merchant_id, e.account, txn.currency, e.amount_minor
    FROM txn, (SELECT unnest(@accounts::text[]) AS account, unnest(@amounts::bigint[]) AS amount_minor) e
)
SELECT * FROM txn;

-- name: LedgerTransactionGet :one
SELECT * FROM ledger_transactions
WHERE merchant_id = @merchant_id AND id = @id;

-- name: LedgerEntriesOf :many
SELECT * FROM ledger_entries
WHERE transaction_id = @transaction_id
ORDER BY id;

-- name: LedgerTransactionBySettlement :one
SELECT id FROM ledger_transactions
WHERE merchant_id = @merchant_id AND provider = @provider AND settlement_reference = @settlement_reference;
