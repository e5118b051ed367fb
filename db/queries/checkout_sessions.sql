-- name: CheckoutSessionInsert :one
INSERT INTO checkout_sessions (id, merchant_id, integration_id, currency, amount_minor, reference, expires_at)
VALUES (@id, @merchant_id, @integration_id, @currency, sqlc.narg(amount_minor), sqlc.narg(reference),
        sqlc.arg(now)::timestamptz + make_interval(secs => @ttl_seconds::integer))
RETURNING *;

-- name: CheckoutSessionGet :one
-- The session, with expired telling whether an open session is past its
-- expiry (it then reads as expired).
SELECT sqlc.embed(checkout_sessions), (expires_at <= sqlc.arg(now)::timestamptz)::boolean AS expired
FROM checkout_sessions
WHERE merchant_id = @merchant_id AND id = @id;

-- name: CheckoutSessionGetForUpdate :one
SELECT sqlc.embed(checkout_sessions), (expires_at <= sqlc.arg(now)::timestamptz)::boolean AS expired
FROM checkout_sessions
WHERE merchant_id = @merchant_id AND id = @id
FOR UPDATE;

-- name: CheckoutSessionIdentify :one
-- Attaches (or replaces) the customer of an open session.
UPDATE checkout_sessions
SET customer_id = @customer_id, wallet_id = @wallet_id, updated_at = now()
WHERE merchant_id = @merchant_id AND id = @id AND status = 'open' AND expires_at > sqlc.arg(now)::timestamptz
RETURNING *;

-- name: CheckoutSessionComplete :execrows
-- Completes a session with its payment (locked and checked open by the
-- caller); the payer becomes the session's customer. A session with a fixed
-- amount is completed only by a payment that authorized all of it: no row
-- is changed for a partial authorization.
UPDATE checkout_sessions s
SET status = 'completed', payment_id = p.id, customer_id = @customer_id, wallet_id = @wallet_id, updated_at = now()
FROM payments p
WHERE s.merchant_id = @merchant_id AND s.id = @id
  AND p.merchant_id = s.merchant_id AND p.id = @payment_id
  AND (s.amount_minor IS NULL OR p.authorized_minor >= s.amount_minor);
