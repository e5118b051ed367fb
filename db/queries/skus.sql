-- name: SkuUpsert :one
INSERT INTO skus (merchant_id, sku_id, currency, face_value_minor, bonus_minor, bonus_expires_in_days, active)
VALUES (@merchant_id, @sku_id, @currency, @face_value_minor, @bonus_minor, @bonus_expires_in_days, @active)
ON CONFLICT (merchant_id, sku_id) DO UPDATE
SET currency = EXCLUDED.currency,
    face_value_minor = EXCLUDED.face_value_minor,
    bonus_minor = EXCLUDED.bonus_minor,
    bonus_expires_in_days = EXCLUDED.bonus_expires_in_days,
    active = EXCLUDED.active,
    updated_at = sqlc.arg(now)::timestamptz -- a parameter: Citus takes no now() in DO UPDATE
RETURNING *;

-- name: SkuGetForUpdate :one
SELECT * FROM skus
WHERE merchant_id = @merchant_id AND sku_id = @sku_id
FOR UPDATE;

-- name: SkuGet :one
SELECT * FROM skus
WHERE merchant_id = @merchant_id AND sku_id = @sku_id;

-- name: SkuWasSold :one
SELECT EXISTS (
    SELECT 1 FROM ledger_transactions
    WHERE merchant_id = @merchant_id AND sku_id = @sku_id
) AS sold;

-- name: SkuList :many
-- One page of the catalog, most recently updated first, keyset on (updated_at, sku_id).
SELECT * FROM skus
WHERE merchant_id = @merchant_id
  AND (sqlc.narg(before_updated_at)::timestamptz IS NULL
       OR (updated_at, sku_id) < (sqlc.narg(before_updated_at)::timestamptz, sqlc.narg(before_sku_id)::text))
ORDER BY updated_at DESC, sku_id DESC
LIMIT @page_size;
