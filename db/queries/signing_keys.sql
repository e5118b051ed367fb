-- name: SigningKeyLock :exec
-- Serializes creating and rotating signing keys across replicas.
SELECT pg_advisory_xact_lock(hashtext('feddi.signing_keys'));

-- name: SigningKeyGetCurrent :one
SELECT * FROM signing_keys
WHERE retired_at IS NULL;

-- name: SigningKeyGet :one
SELECT * FROM signing_keys
WHERE kid = @kid;

-- name: SigningKeyInsert :one
INSERT INTO signing_keys (kid, algorithm, sealed_private_key, public_jwk)
VALUES (@kid, @algorithm, @sealed_private_key, @public_jwk)
RETURNING *;

-- name: SigningKeyRetireCurrent :execrows
UPDATE signing_keys
SET retired_at = sqlc.arg(as_of)::timestamptz
WHERE retired_at IS NULL;

-- name: SigningKeyRevokeRetired :execrows
-- Kills every retired key at once (a leak): none verifies from now on.
UPDATE signing_keys
SET revoked_at = sqlc.arg(as_of)::timestamptz
WHERE retired_at IS NOT NULL AND revoked_at IS NULL;

-- name: SigningKeyListForUpdate :many
-- Every signing key, for re-sealing under a new KEK.
SELECT * FROM signing_keys
ORDER BY created_at, kid
FOR UPDATE;

-- name: SigningKeyListUnsealed :many
-- Keys still stored in plaintext (written before encryption at rest).
SELECT * FROM signing_keys
WHERE private_key IS NOT NULL
ORDER BY created_at, kid
FOR UPDATE;

-- name: SigningKeySeal :exec
UPDATE signing_keys
SET sealed_private_key = @sealed_private_key, private_key = NULL
WHERE kid = @kid;

-- name: SigningKeyListPublished :many
-- The keys a verifier needs: the current one and those retired so recently
-- that tokens they signed may still be unexpired, never a killed one.
-- Newest first.
SELECT kid, public_jwk FROM signing_keys
WHERE revoked_at IS NULL
  AND (retired_at IS NULL
       OR retired_at > sqlc.arg(as_of)::timestamptz - make_interval(secs => sqlc.arg(grace_seconds)::double precision))
ORDER BY created_at DESC, kid DESC;
