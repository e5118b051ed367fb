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
INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk)
VALUES (@kid, @algorithm, @private_key, @public_jwk)
RETURNING *;

-- name: SigningKeyRetireCurrent :execrows
UPDATE signing_keys
SET retired_at = now()
WHERE retired_at IS NULL;

-- name: SigningKeyListPublished :many
-- The keys a verifier needs: the current one and those retired so recently
-- that tokens they signed may still be unexpired. Newest first.
SELECT kid, public_jwk FROM signing_keys
WHERE retired_at IS NULL
   OR retired_at > now() - make_interval(secs => @grace_seconds::double precision)
ORDER BY created_at DESC, kid DESC;
