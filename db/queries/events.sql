-- name: EventInsert :exec
-- The event and one webhook job per subscribed endpoint (event_record,
-- 00017).
SELECT event_record(@id::text, @merchant_id::text, sqlc.narg(integration_id)::text, @type::text,
                    @api_version::text, @data::jsonb, @created_at::timestamptz);

-- name: EventHorizon :one
-- The oldest transaction still running here (see EventList). A statement
-- of its own: on Citus it runs on the coordinator, whose transaction ids
-- the events carry (event_record runs there), while a statement on the
-- events table runs on a worker.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon;

-- name: EventList :many
-- One page of the events an integration sees, in commit-safe order
-- (txid, id), after the cursor's position. Only events of transactions
-- older than every one running when @horizon was read (EventHorizon, see
-- 00013_events.sql) are served, so none can later appear before a
-- position already served.
SELECT id, type, api_version, data, created_at, txid FROM events
WHERE merchant_id = @merchant_id
  AND (integration_id IS NULL OR integration_id = @integration_id)
  AND txid < @horizon::bigint
  AND (sqlc.narg(types)::text[] IS NULL OR type = ANY (sqlc.narg(types)::text[]))
  AND (sqlc.narg(created_after)::timestamptz IS NULL OR created_at >= sqlc.narg(created_after)::timestamptz)
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR created_at < sqlc.narg(created_before)::timestamptz)
  AND (sqlc.narg(after_txid)::bigint IS NULL
       OR (txid, id) > (sqlc.narg(after_txid)::bigint, sqlc.narg(after_id)::text))
ORDER BY txid, id
LIMIT @page_size;

-- name: EventGet :one
SELECT id, type, api_version, data, created_at, txid FROM events
WHERE merchant_id = @merchant_id AND id = @id
  AND (integration_id IS NULL OR integration_id = @integration_id);

-- name: EventDeleteOld :execrows
-- Deletes up to @batch_size events recorded before @before (their webhook
-- deliveries go with them: ON DELETE CASCADE).
DELETE FROM events
WHERE id IN (SELECT e.id FROM events e WHERE e.created_at < @before LIMIT @batch_size);
