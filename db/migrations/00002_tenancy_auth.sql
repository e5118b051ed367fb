-- +goose Up
-- Tenancy and authentication: merchants own integrations, integrations own
-- API keys, and signing keys sign the terminal JWTs every replica verifies.
-- Every key row carries its merchant and integration, and the composite
-- foreign key makes a key of one merchant naming another's integration
-- impossible.

CREATE TABLE merchants (
    id         text        PRIMARY KEY CHECK (id ~ '^mer_[0-9A-HJKMNP-TV-Z]{26}$'),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE integrations (
    id                  text        PRIMARY KEY CHECK (id ~ '^int_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id         text        NOT NULL REFERENCES merchants (id),
    name                text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- operationIds turned off for this integration (operation_not_enabled).
    disabled_operations text[]      NOT NULL DEFAULT '{}' CHECK (array_position(disabled_operations, NULL) IS NULL),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id)
);

CREATE TABLE api_keys (
    id             text        PRIMARY KEY CHECK (id ~ '^key_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id    text        NOT NULL,
    integration_id text        NOT NULL,
    name           text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- The first characters of the raw key, shown in listings so a person can
    -- tell keys apart; too short to help anyone guess the rest.
    prefix         text        NOT NULL CHECK (char_length(prefix) BETWEEN 8 AND 32),
    -- SHA-256 of the raw key. The raw key itself is never stored.
    secret_hash    bytea       NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    role           text        NOT NULL CHECK (role IN ('integration', 'operator')),
    scopes         text[]      NOT NULL CHECK (cardinality(scopes) >= 1 AND array_position(scopes, NULL) IS NULL),
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    -- The key this one replaced (regenerate), for audit.
    replaces_key_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    expires_at     timestamptz,
    revoked_at     timestamptz,
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK (expires_at IS NULL OR expires_at > created_at)
);

-- Listings: one integration's keys, newest first, keyset-paginated by
-- (created_at, id).
CREATE INDEX api_keys_listing_idx ON api_keys (integration_id, created_at DESC, id DESC);

-- ES256 keys that sign terminal JWTs. The one with retired_at NULL is
-- current (signs new tokens); retired keys still verify the tokens they
-- signed and stay in the JWKS until those have expired.
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY CHECK (char_length(kid) BETWEEN 8 AND 64),
    algorithm   text        NOT NULL CHECK (algorithm IN ('ES256')),
    -- PKCS #8 DER of the private key.
    private_key bytea       NOT NULL,
    -- The public key as a JWK (kty, crv, x, y, kid, alg, use).
    public_jwk  jsonb       NOT NULL CHECK (jsonb_typeof(public_jwk) = 'object' AND public_jwk -> 'd' IS NULL),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    CHECK (retired_at IS NULL OR retired_at >= created_at)
);

-- At most one current signing key.
CREATE UNIQUE INDEX signing_keys_one_current_idx ON signing_keys ((true)) WHERE retired_at IS NULL;

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE api_keys;
DROP TABLE integrations;
DROP TABLE merchants;
