-- name: ReloadBonusConfigLock :exec
-- Serializes the writers of one merchant's config of one currency, so
-- versions are consecutive.
SELECT pg_advisory_xact_lock(hashtextextended('feddi.reload_bonus:' || @merchant_id::text || ':' || @currency::text, 0));

-- name: ReloadBonusConfigInsert :one
INSERT INTO reload_bonus_configs (merchant_id, currency, version, tiers, bonus_expires_in_days, active, integration_id, operator_id)
SELECT @merchant_id, @currency, coalesce(max(version), 0) + 1, @tiers, @bonus_expires_in_days, @active, @integration_id, sqlc.narg(operator_id)
FROM reload_bonus_configs
WHERE merchant_id = @merchant_id AND currency = @currency
RETURNING *;

-- name: ReloadBonusConfigCurrent :one
SELECT * FROM reload_bonus_configs
WHERE merchant_id = @merchant_id AND currency = @currency
ORDER BY version DESC
LIMIT 1;
