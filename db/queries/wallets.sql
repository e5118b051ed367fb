-- name: WalletInsert :one
INSERT INTO wallets (id, merchant_id, customer_id, currency, status, verified_at)
VALUES (@id, @merchant_id, @customer_id, @currency, @status,
        CASE WHEN @status::text = 'verified' THEN sqlc.arg(now)::timestamptz END)
RETURNING *;

-- name: WalletGet :one
SELECT * FROM wallets
WHERE merchant_id = @merchant_id AND id = @id;

-- name: WalletGetForUpdate :one
-- Locks the wallet for a money movement. Callers locking several wallets
-- lock them in id order.
SELECT * FROM wallets
WHERE merchant_id = @merchant_id AND id = @id
FOR UPDATE;

-- name: WalletGetByCustomer :one
SELECT * FROM wallets
WHERE merchant_id = @merchant_id AND customer_id = @customer_id AND currency = @currency;

-- name: WalletListByCustomer :many
SELECT * FROM wallets
WHERE merchant_id = @merchant_id AND customer_id = @customer_id
ORDER BY id;

-- name: WalletMarkVerified :one
-- Idempotent: a verified wallet keeps its first verified_at.
UPDATE wallets
SET status = 'verified', verified_at = coalesce(verified_at, sqlc.arg(now)::timestamptz), updated_at = now()
WHERE merchant_id = @merchant_id AND id = @id
RETURNING *;

-- name: WalletListExpiryDue :many
-- Wallets holding a live grant at or past its expiry, oldest due first
-- (the expiry sweeper; every merchant).
SELECT merchant_id, id FROM wallets
WHERE next_promo_expiry_at <= @now
ORDER BY next_promo_expiry_at
LIMIT @batch_size;
