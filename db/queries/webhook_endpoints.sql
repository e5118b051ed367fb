-- name: WebhookEndpointInsert :one
INSERT INTO webhook_endpoints (id, merchant_id, integration_id, url, event_types, description, secret_sealed, created_at)
VALUES (@id, @merchant_id, @integration_id, @url, @event_types, sqlc.narg(description), @secret_sealed, @created_at)
RETURNING *;

-- name: WebhookEndpointGet :one
-- An endpoint of the integration (deleted ones are gone).
SELECT * FROM webhook_endpoints
WHERE id = @id AND merchant_id = @merchant_id AND integration_id = @integration_id AND status <> 'deleted';

-- name: WebhookEndpointGetForDelivery :one
SELECT * FROM webhook_endpoints WHERE merchant_id = @merchant_id AND id = @id;

-- name: WebhookEndpointList :many
-- One page of the integration's endpoints, newest first, keyset on
-- (created_at, id).
SELECT * FROM webhook_endpoints
WHERE merchant_id = @merchant_id AND integration_id = @integration_id AND status <> 'deleted'
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: WebhookEndpointDelete :one
UPDATE webhook_endpoints SET status = 'deleted'
WHERE id = @id AND merchant_id = @merchant_id AND integration_id = @integration_id AND status <> 'deleted'
RETURNING *;

-- name: WebhookEndpointRotate :one
-- The new secret signs from now on; the current one keeps signing beside
-- it until @previous_expires_at.
UPDATE webhook_endpoints
SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = @previous_expires_at::timestamptz,
    secret_sealed = @secret_sealed
WHERE id = @id AND merchant_id = @merchant_id AND integration_id = @integration_id AND status <> 'deleted'
RETURNING *;

-- name: WebhookEndpointSucceeded :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE merchant_id = @merchant_id AND id = @id AND failing_since IS NOT NULL;

-- name: WebhookEndpointFailed :one
-- Records a failed delivery: failing since its first failure in a row;
-- disabled once that is @disable_before or earlier.
UPDATE webhook_endpoints
SET failing_since = coalesce(failing_since, @now::timestamptz),
    status = CASE WHEN status = 'enabled' AND coalesce(failing_since, @now::timestamptz) <= @disable_before::timestamptz
                  THEN 'disabled' ELSE status END,
    disabled_at = CASE WHEN status = 'enabled' AND coalesce(failing_since, @now::timestamptz) <= @disable_before::timestamptz
                       THEN @now::timestamptz ELSE disabled_at END
WHERE merchant_id = @merchant_id AND id = @id
RETURNING status;

-- name: WebhookEndpointSecretsForUpdate :many
-- Every endpoint's sealed secrets, locked, for re-sealing under a new KEK.
SELECT merchant_id, id, secret_sealed, previous_secret_sealed FROM webhook_endpoints
WHERE status <> 'deleted'
ORDER BY id
FOR UPDATE;

-- name: WebhookEndpointReseal :exec
UPDATE webhook_endpoints SET secret_sealed = @secret_sealed, previous_secret_sealed = sqlc.narg(previous_secret_sealed)
WHERE merchant_id = @merchant_id AND id = @id;
