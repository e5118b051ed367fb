-- name: IdempotencyKeyClaim :one
-- Locks one key for this transaction and reads its stored result
-- (idempotency_claim, 00011): locked is false when another request holding
-- the key still runs; status_code is 0 when nothing is stored.
SELECT c.locked::boolean AS locked, c.fingerprint::bytea AS fingerprint,
       c.status_code::integer AS status_code, c.response_body::bytea AS response_body
FROM idempotency_claim(sqlc.arg(merchant_id)::text, sqlc.arg(scope)::text, sqlc.arg(key)::text, sqlc.arg(now)::timestamptz) AS c;

-- name: IdempotencyKeyInsert :exec
INSERT INTO idempotency_keys (merchant_id, scope, key, operation_id, fingerprint, status_code, response_body, expires_at)
VALUES (@merchant_id, @scope, @key, @operation_id, @fingerprint, @status_code, @response_body, sqlc.arg(now)::timestamptz + make_interval(secs => @retention_seconds::double precision))
ON CONFLICT (merchant_id, scope, key) DO UPDATE
SET operation_id = EXCLUDED.operation_id,
    fingerprint = EXCLUDED.fingerprint,
    status_code = EXCLUDED.status_code,
    response_body = EXCLUDED.response_body,
    created_at = sqlc.arg(now)::timestamptz,
    expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= sqlc.arg(now)::timestamptz;

-- name: IdempotencyKeyDeleteExpired :execrows
-- Keyed by the primary key, not ctid (a ctid is per shard on Citus).
DELETE FROM idempotency_keys
WHERE (merchant_id, scope, key) IN (
    SELECT merchant_id, scope, key FROM idempotency_keys WHERE expires_at <= sqlc.arg(now)::timestamptz LIMIT @batch_size);
