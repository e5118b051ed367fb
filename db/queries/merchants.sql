-- name: MerchantInsert :one
INSERT INTO merchants (id, name)
VALUES (@id, @name)
RETURNING *;

-- name: MerchantGet :one
SELECT * FROM merchants
WHERE id = @id;

-- name: MerchantExists :one
SELECT EXISTS (SELECT 1 FROM merchants) AS exists;

-- name: MerchantLockBootstrap :exec
-- Serializes bootstraps, so two "bootstrap --if-empty" running at once
-- create one merchant.
SELECT pg_advisory_xact_lock(hashtext('feddi.bootstrap'));
