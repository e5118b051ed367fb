-- name: WebhookDeliveryInsert :exec
INSERT INTO webhook_deliveries (id, merchant_id, endpoint_id, event_id, attempt, status_code, latency_ms, succeeded, error, attempted_at)
VALUES (@id, @merchant_id, @endpoint_id, @event_id, @attempt, sqlc.narg(status_code), @latency_ms, @succeeded, sqlc.narg(error), @attempted_at);

-- name: WebhookDeliveryList :many
-- One page of an endpoint's attempts, newest first.
SELECT * FROM webhook_deliveries
WHERE merchant_id = @merchant_id AND endpoint_id = @endpoint_id
  AND (sqlc.narg(before_attempted_at)::timestamptz IS NULL
       OR (attempted_at, id) < (sqlc.narg(before_attempted_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY attempted_at DESC, id DESC
LIMIT @page_size;
