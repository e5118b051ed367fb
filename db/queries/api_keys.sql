-- name: ApiKeyInsert :one
INSERT INTO api_keys (id, merchant_id, integration_id, name, prefix, secret_hash, role, scopes, expires_at, replaces_key_id)
VALUES (@id, @merchant_id, @integration_id, @name, @prefix, @secret_hash, @role, @scopes::text[], @expires_at, @replaces_key_id)
RETURNING *;

-- name: ApiKeyGetForAuthBySecretHash :one
-- Authenticates an X-Api-Key: the key with this hash and the settings of its
-- integration. The caller is not known yet, so this is the one key query
-- not filtered by integration; the hash of a 256-bit secret is the filter.
SELECT sqlc.embed(api_keys), integrations.disabled_operations
FROM api_keys
JOIN integrations ON integrations.id = api_keys.integration_id AND integrations.merchant_id = api_keys.merchant_id
WHERE api_keys.secret_hash = @secret_hash;

-- name: ApiKeyGetForAuth :one
-- Re-checks, on every request with a terminal JWT, the key behind it (so a
-- revoked or deleted key stops its tokens at once) and the trust of the
-- signing key that signed it (so a retired or killed signing key stops
-- them on every replica the moment it is): one read for both.
SELECT sqlc.embed(api_keys), integrations.disabled_operations,
       (signing_keys.kid IS NOT NULL)::boolean AS signing_key_known,
       signing_keys.retired_at AS signing_key_retired_at,
       signing_keys.revoked_at AS signing_key_revoked_at
FROM api_keys
JOIN integrations ON integrations.id = api_keys.integration_id AND integrations.merchant_id = api_keys.merchant_id
LEFT JOIN signing_keys ON signing_keys.kid = sqlc.arg(signing_kid)::text
WHERE api_keys.id = @id
  AND api_keys.integration_id = @integration_id
  AND api_keys.merchant_id = @merchant_id;

-- name: ApiKeyGet :one
SELECT * FROM api_keys
WHERE id = @id AND integration_id = @integration_id AND merchant_id = @merchant_id;

-- name: ApiKeyGetForUpdate :one
SELECT * FROM api_keys
WHERE id = @id AND integration_id = @integration_id AND merchant_id = @merchant_id
FOR UPDATE;

-- name: ApiKeyList :many
-- One page of an integration's keys, newest first; (before_at, before_id)
-- is the last key of the previous page (internal/platform/keyset).
SELECT * FROM api_keys
WHERE integration_id = @integration_id
  AND merchant_id = @merchant_id
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- name: ApiKeyRevoke :one
-- Soft revocation; revoking a revoked key keeps its first revoked_at.
UPDATE api_keys
SET status = 'revoked', revoked_at = COALESCE(revoked_at, sqlc.arg(now)::timestamptz)
WHERE id = @id AND integration_id = @integration_id AND merchant_id = @merchant_id
RETURNING *;

-- name: ApiKeyDelete :one
-- Removes a key, secret hash and all, and leaves its tombstone in the same
-- statement, so a key is never gone without its audit record.
WITH gone AS (
    DELETE FROM api_keys
    WHERE api_keys.id = @id AND api_keys.integration_id = @integration_id AND api_keys.merchant_id = @merchant_id
    RETURNING api_keys.*
)
INSERT INTO api_key_tombstones (id, merchant_id, integration_id, name, role, scopes, created_at, revoked_at, replaces_key_id, deleted_at, deleted_by_key_id)
SELECT gone.id, gone.merchant_id, gone.integration_id, gone.name, gone.role, gone.scopes, gone.created_at, gone.revoked_at, gone.replaces_key_id, @deleted_at, @deleted_by_key_id
FROM gone
RETURNING *;

-- name: ApiKeyTombstoneGet :one
SELECT * FROM api_key_tombstones
WHERE id = @id AND integration_id = @integration_id AND merchant_id = @merchant_id;

-- name: ApiKeyTouch :exec
-- Records use at most once a minute per key: the caller issues it only when
-- the last_used_at it read is older than that, and the condition keeps
-- replicas racing on one key down to one write.
UPDATE api_keys
SET last_used_at = sqlc.arg(now)::timestamptz
WHERE id = @id AND integration_id = @integration_id AND merchant_id = @merchant_id
  AND (last_used_at IS NULL OR last_used_at < sqlc.arg(now)::timestamptz - make_interval(secs => @interval_seconds::double precision));
