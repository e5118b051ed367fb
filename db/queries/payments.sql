-- name: PaymentInsert :one
-- Inserts a payment and its grant allocations (in spending order) in one
-- statement.
WITH p AS (
    INSERT INTO payments (
        id, merchant_id, integration_id, wallet_id, customer_id, currency, amount_minor,
        promo_applied_minor, actual_applied_minor, promo_captured_minor, actual_captured_minor,
        status, capture_mode, authorization_expires_at,
        actual_after_minor, promo_available_after_minor, promo_locked_after_minor, next_promo_expiry_after,
        terminal_id, location_id, operator_id, checkout_session_id, reference)
    VALUES (
        @id, @merchant_id, @integration_id, @wallet_id, @customer_id, @currency, @amount_minor,
        @promo_applied_minor, @actual_applied_minor, @promo_captured_minor, @actual_captured_minor,
        @status, @capture_mode, sqlc.arg(now)::timestamptz + make_interval(secs => @authorization_ttl_seconds::integer),
        @actual_after_minor, @promo_available_after_minor, @promo_locked_after_minor, sqlc.narg(next_promo_expiry_after),
        sqlc.narg(terminal_id), sqlc.narg(location_id), sqlc.narg(operator_id), sqlc.narg(checkout_session_id), sqlc.narg(reference))
    RETURNING *
), a AS (
    INSERT INTO payment_allocations (payment_id, merchant_id, position, grant_id, amount_minor)
    SELECT p.id, p.merchant_id, u.position, u.grant_id, u.amount_minor
    FROM p, (SELECT unnest(@grant_ids::text[]) AS grant_id, unnest(@grant_amounts::bigint[]) AS amount_minor,
                    generate_series(0, cardinality(@grant_ids::text[]) - 1) AS position) u
)
SELECT * FROM p;

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
