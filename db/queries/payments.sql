-- name: PaymentInsert :one
-- Inserts a payment and its grant allocations (in spending order) in one
-- call (payment_insert, 00018).
SELECT * FROM payment_insert(@id::text, @merchant_id::text, @integration_id::text, @wallet_id::text,
    @customer_id::text, @currency::text, @amount_minor::bigint,
    @promo_applied_minor::bigint, @actual_applied_minor::bigint, @promo_captured_minor::bigint, @actual_captured_minor::bigint,
    @status::text, @capture_mode::text, sqlc.arg(now)::timestamptz, @authorization_ttl_seconds::integer,
    @actual_after_minor::bigint, @promo_available_after_minor::bigint, @promo_locked_after_minor::bigint,
    sqlc.narg(next_promo_expiry_after)::timestamptz, sqlc.narg(terminal_id)::text, sqlc.narg(location_id)::text,
    sqlc.narg(operator_id)::text, sqlc.narg(checkout_session_id)::text, sqlc.narg(reference)::text,
    @grant_ids::text[], @grant_amounts::bigint[]);

-- name: PaymentGet :one
SELECT * FROM payments
WHERE merchant_id = @merchant_id AND id = @id;

-- name: PaymentGetForUpdate :one
SELECT * FROM payments
WHERE merchant_id = @merchant_id AND id = @id
FOR UPDATE;

-- name: PaymentAllocations :many
SELECT grant_id, amount_minor FROM payment_allocations
WHERE merchant_id = @merchant_id AND payment_id = @payment_id
ORDER BY position;

-- name: PaymentSettle :one
-- Records the end of an authorization: captured (in part or whole),
-- closed or expired, with the wallet's balance after it.
UPDATE payments
SET status = @status,
    promo_captured_minor = @promo_captured_minor,
    actual_captured_minor = @actual_captured_minor,
    actual_after_minor = @actual_after_minor,
    promo_available_after_minor = @promo_available_after_minor,
    promo_locked_after_minor = @promo_locked_after_minor,
    next_promo_expiry_after = sqlc.narg(next_promo_expiry_after),
    updated_at = now()
WHERE merchant_id = @merchant_id AND id = @id AND status = 'authorized'
RETURNING *;

-- name: PaymentListExpired :many
-- Authorizations past their expiry at @now (the sweeper's work list; every
-- merchant), oldest first, leaving out those whose last expiry failed until
-- their retry time: a payment that keeps failing never blocks the others.
SELECT merchant_id, id, expiry_attempts FROM payments
WHERE status = 'authorized' AND authorization_expires_at <= @now
  AND (expiry_retry_at IS NULL OR expiry_retry_at <= @now)
ORDER BY authorization_expires_at
LIMIT @batch_size;

-- name: PaymentExpiryFailed :one
-- Counts a failed expiry of an authorization and sets when the sweeper may
-- try it again. Returns the failures so far.
UPDATE payments
SET expiry_attempts = expiry_attempts + 1, expiry_retry_at = @retry_at, updated_at = now()
WHERE merchant_id = @merchant_id AND id = @id AND status = 'authorized'
RETURNING expiry_attempts;

-- name: PaymentRecordRefund :one
-- Adds a refund to a captured payment's refunded totals (the row is locked
-- by the caller); the payments_refund_within_captured CHECK refuses any
-- total past what was captured.
UPDATE payments
SET actual_refunded_minor = actual_refunded_minor + @actual_refunded_minor,
    promo_refunded_minor = promo_refunded_minor + @promo_refunded_minor,
    promo_forfeited_minor = promo_forfeited_minor + @promo_forfeited_minor,
    actual_after_minor = @actual_after_minor,
    promo_available_after_minor = @promo_available_after_minor,
    promo_locked_after_minor = @promo_locked_after_minor,
    next_promo_expiry_after = sqlc.narg(next_promo_expiry_after),
    updated_at = now()
WHERE merchant_id = @merchant_id AND id = @id AND status = 'captured'
RETURNING *;
