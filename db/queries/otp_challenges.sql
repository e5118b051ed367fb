-- name: OtpChallengeSecondsSinceLast :one
-- Seconds since the customer's latest challenge was sent (one SMS per 60
-- seconds per customer).
SELECT extract(epoch FROM sqlc.arg(now)::timestamptz - created_at)::float8 AS seconds
FROM otp_challenges
WHERE merchant_id = @merchant_id AND customer_id = @customer_id
ORDER BY created_at DESC
LIMIT 1;

-- name: OtpChallengeInsert :one
INSERT INTO otp_challenges (id, merchant_id, customer_id, wallet_id, code_hash, expires_at)
VALUES (@id, @merchant_id, @customer_id, @wallet_id, @code_hash, sqlc.arg(now)::timestamptz + make_interval(secs => @ttl_seconds::integer))
RETURNING expires_at;

-- name: OtpChallengeGetForUpdate :one
-- The challenge and whether it has expired, locked so that concurrent
-- attempts count one after the other.
SELECT id, customer_id, wallet_id, code_hash, attempts, used_at, (expires_at <= sqlc.arg(now)::timestamptz)::boolean AS expired
FROM otp_challenges
WHERE merchant_id = @merchant_id AND id = @id
FOR UPDATE;

-- name: OtpChallengeCountWrongCode :one
UPDATE otp_challenges
SET attempts = attempts + 1
WHERE merchant_id = @merchant_id AND id = @id
RETURNING attempts;

-- name: OtpChallengeUse :execrows
-- Uses the challenge for a payment, once.
UPDATE otp_challenges
SET used_at = sqlc.arg(now)::timestamptz, payment_id = @payment_id
WHERE merchant_id = @merchant_id AND id = @id AND used_at IS NULL;

-- name: OtpChallengePurge :execrows
DELETE FROM otp_challenges
WHERE id = ANY(ARRAY(SELECT old.id FROM otp_challenges old WHERE old.created_at < @before ORDER BY old.created_at LIMIT @batch_size));
