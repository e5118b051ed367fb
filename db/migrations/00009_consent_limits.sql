-- +goose Up
-- The consent rule (docs/authentication.md): the key that mints a wallet's
-- QR (qr:mint, the wallet app) is never the key that pays with it
-- (payments:write, the till). Keys made before the rule, bootstrap keys
-- first, held every scope: they keep payments:write and lose qr:mint,
-- since a till's key is far more common than a wallet app's, and the
-- wallet app gets a key of its own from the operator key. Their terminal
-- tokens stop acting with qr:mint at once (auth strips it).
UPDATE api_keys SET scopes = array_remove(scopes, 'qr:mint')
WHERE scopes @> ARRAY['qr:mint', 'payments:write'];
ALTER TABLE api_keys ADD CONSTRAINT api_keys_consent_check
    CHECK (NOT scopes @> ARRAY['qr:mint', 'payments:write']);

-- +goose Down
ALTER TABLE api_keys DROP CONSTRAINT api_keys_consent_check;
