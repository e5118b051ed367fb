-- name: RefundInsert :one
-- Records a refund of a payment (its payment_refund transaction is booked
-- in the same database transaction).
INSERT INTO refunds (
    id, merchant_id, payment_id, transaction_id, amount_minor,
    actual_refunded_minor, promo_refunded_minor, promo_forfeited_minor, reason, reference,
    actual_after_minor, promo_available_after_minor, promo_locked_after_minor, next_promo_expiry_after, created_at)
VALUES (
    @id, @merchant_id, @payment_id, @transaction_id, @amount_minor,
    @actual_refunded_minor, @promo_refunded_minor, @promo_forfeited_minor, @reason, sqlc.narg(reference),
    @actual_after_minor, @promo_available_after_minor, @promo_locked_after_minor, sqlc.narg(next_promo_expiry_after),
    sqlc.arg(now)::timestamptz)
RETURNING *;

-- name: RefundListByPayment :many
-- A payment's refunds, oldest first.
SELECT * FROM refunds
WHERE merchant_id = @merchant_id AND payment_id = @payment_id
ORDER BY created_at, id;
