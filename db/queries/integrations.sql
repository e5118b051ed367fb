-- name: IntegrationInsert :one
INSERT INTO integrations (id, merchant_id, name)
VALUES (@id, @merchant_id, @name)
RETURNING *;

-- name: IntegrationGet :one
SELECT * FROM integrations
WHERE id = @id AND merchant_id = @merchant_id;

-- name: IntegrationSetDisabledOperations :one
UPDATE integrations
SET disabled_operations = @disabled_operations::text[]
WHERE id = @id AND merchant_id = @merchant_id
RETURNING *;
