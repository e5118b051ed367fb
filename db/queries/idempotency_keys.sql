-- name: IdempotencyKeyLock :one
-- Takes the transaction-scoped lock of one key; false when another request
-- holding the same key is still running.
SELECT pg_try_advisory_xact_lock(hashtextextended(@integration_id::text || ':' || @key::text, 0))::boolean AS locked;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys
WHERE integration_id = @integration_id AND key = @key AND expires_at > now();

-- name: IdempotencyKeyInsert :exec
INSERT INTO idempotency_keys (integration_id, key, operation_id, fingerprint, status_code, response_body, expires_at)
VALUES (@integration_id, @key, @operation_id, @fingerprint, @status_code, @response_body, now() + make_interval(secs => @retention_seconds::double precision))
ON CONFLICT (integration_id, key) DO UPDATE
SET operation_id = EXCLUDED.operation_id,
    fingerprint = EXCLUDED.fingerprint,
    status_code = EXCLUDED.status_code,
    response_body = EXCLUDED.response_body,
    created_at = now(),
    expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= now();

-- name: IdempotencyKeyDeleteExpired :execrows
DELETE FROM idempotency_keys
WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT @batch_size);
