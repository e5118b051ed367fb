-- name: CustomerInsert :one
INSERT INTO customers (id, merchant_id, display_name, phone, card_fingerprint, provider_customer_id)
VALUES (@id, @merchant_id, sqlc.narg(display_name), @phone, sqlc.narg(card_fingerprint), sqlc.narg(provider_customer_id))
RETURNING *;

-- name: CustomerGet :one
SELECT * FROM customers
WHERE merchant_id = @merchant_id AND id = @id;

-- name: CustomerGetByPhone :one
SELECT * FROM customers
WHERE merchant_id = @merchant_id AND phone = @phone;

-- name: CustomerGetByCardFingerprint :one
SELECT * FROM customers
WHERE merchant_id = @merchant_id AND card_fingerprint = @card_fingerprint;

-- name: CustomerGetByProviderCustomerID :one
SELECT * FROM customers
WHERE merchant_id = @merchant_id AND provider_customer_id = @provider_customer_id;

-- name: CustomerUpdateProfile :one
-- Sets the optional fields given (non-null); the others keep their value.
UPDATE customers
SET display_name         = coalesce(sqlc.narg(display_name), display_name),
    card_fingerprint     = coalesce(sqlc.narg(card_fingerprint), card_fingerprint),
    provider_customer_id = coalesce(sqlc.narg(provider_customer_id), provider_customer_id)
WHERE merchant_id = @merchant_id AND id = @id
RETURNING *;
