-- +goose Up
-- Signing private keys are sealed at rest with a key-encryption key (KEK)
-- from the environment, so a database reader (a backup, a replica, a leaked
-- dump) cannot mint terminal JWTs. Rows written before this migration hold
-- plaintext PKCS #8; the service seals them on its next start (or
-- `feddi keys rotate-kek`), after which private_key is NULL.
ALTER TABLE signing_keys
    ALTER COLUMN private_key DROP NOT NULL,
    -- AES-256-GCM of the PKCS #8 DER under the KEK: a 12-byte random nonce
    -- followed by the ciphertext and tag; the kid is the additional data, so
    -- a sealed key moved onto another row does not open.
    ADD COLUMN sealed_private_key bytea CHECK (octet_length(sealed_private_key) > 28),
    -- A key killed at once (`feddi keys rotate-signing --revoke-previous`,
    -- for a leak): it verifies nothing from then on and leaves the JWKS.
    ADD COLUMN revoked_at timestamptz,
    ADD CONSTRAINT signing_keys_one_private_key CHECK ((private_key IS NULL) <> (sealed_private_key IS NULL)),
    ADD CONSTRAINT signing_keys_revoked_is_retired CHECK (revoked_at IS NULL OR retired_at IS NOT NULL);

-- A deleted API key leaves this record, without its secret (not even its
-- hash or prefix), so an id met in an audit trail (a token's sub, a
-- replaces_key_id, a log line) still says whose key it was and who removed it.
CREATE TABLE api_key_tombstones (
    id                text        PRIMARY KEY CHECK (id ~ '^key_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id       text        NOT NULL,
    integration_id    text        NOT NULL,
    name              text        NOT NULL,
    role              text        NOT NULL,
    scopes            text[]      NOT NULL,
    created_at        timestamptz NOT NULL,
    revoked_at        timestamptz,
    replaces_key_id   text,
    deleted_at        timestamptz NOT NULL,
    -- The API key that deleted it (it may itself be deleted later).
    deleted_by_key_id text        NOT NULL,
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id)
);

CREATE INDEX api_key_tombstones_integration_idx ON api_key_tombstones (integration_id, deleted_at DESC);

-- +goose Down
DROP TABLE api_key_tombstones;
UPDATE signing_keys SET revoked_at = NULL;
ALTER TABLE signing_keys
    DROP CONSTRAINT signing_keys_revoked_is_retired,
    DROP CONSTRAINT signing_keys_one_private_key,
    DROP COLUMN revoked_at,
    DROP COLUMN sealed_private_key;
-- Sealed keys cannot be opened here (the KEK is not in the database): a
-- database that goes down past this migration needs its signing keys made
-- afresh.
DELETE FROM signing_keys WHERE private_key IS NULL;
ALTER TABLE signing_keys ALTER COLUMN private_key SET NOT NULL;
