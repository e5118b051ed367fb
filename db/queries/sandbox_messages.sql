-- name: SandboxMessageInsert :exec
-- Delivery may be retried: a message already kept is kept once.
INSERT INTO sandbox_messages (id, merchant_id, phone, kind, body, created_at)
VALUES (@id, @merchant_id, @phone, @kind, @body, @created_at)
ON CONFLICT (merchant_id, id) DO NOTHING;

-- name: SandboxMessageList :many
-- One page of a merchant's messages to a phone, newest first, keyset on
-- (created_at, id).
SELECT * FROM sandbox_messages
WHERE merchant_id = @merchant_id AND phone = @phone
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: SandboxMessageDeleteOld :execrows
-- Keyed by (merchant_id, id), not ctid: on Citus a ctid names a row only
-- within its shard.
DELETE FROM sandbox_messages
WHERE (merchant_id, id) IN (SELECT merchant_id, id FROM sandbox_messages
               WHERE created_at < sqlc.arg(now)::timestamptz - make_interval(secs => @older_than_seconds::double precision)
               LIMIT @batch_size);
