-- name: TransactionList :many
-- One page of an integration's transactions, newest first, keyset on
-- (created_at, id); every filter is optional.
SELECT * FROM ledger_transactions
WHERE merchant_id = @merchant_id AND integration_id = @integration_id
  AND (sqlc.narg(customer_id)::text IS NULL OR customer_id = sqlc.narg(customer_id)::text)
  AND (sqlc.narg(wallet_id)::text IS NULL OR wallet_id = sqlc.narg(wallet_id)::text)
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type)::text)
  AND (sqlc.narg(created_after)::timestamptz IS NULL OR created_at >= sqlc.narg(created_after)::timestamptz)
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR created_at < sqlc.narg(created_before)::timestamptz)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: TransactionGet :one
SELECT * FROM ledger_transactions
WHERE merchant_id = @merchant_id AND integration_id = @integration_id AND id = @id;

-- name: TransactionListByCustomer :many
-- A customer's latest transactions, every integration of the merchant.
SELECT * FROM ledger_transactions
WHERE merchant_id = @merchant_id AND customer_id = @customer_id
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: TransactionTopupStats :one
-- How many top-ups (confirmed and SKU) a wallet received, and their total.
SELECT count(*)::bigint AS topups, coalesce(sum(amount_minor), 0)::bigint AS total_minor
FROM ledger_transactions
WHERE merchant_id = @merchant_id AND wallet_id = @wallet_id AND type IN ('topup', 'sku_topup');
