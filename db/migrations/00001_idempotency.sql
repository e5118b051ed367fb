-- +goose Up
-- Stored results of mutating requests, keyed by the caller's Idempotency-Key.
-- A row is written in the same transaction as the request's effects, so a
-- crash leaves both or neither.
CREATE TABLE idempotency_keys (
    integration_id text        NOT NULL,
    key            text        NOT NULL,
    operation_id   text        NOT NULL,
    fingerprint    bytea       NOT NULL,
    status_code    integer     NOT NULL CHECK (status_code BETWEEN 200 AND 499),
    response_body  bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (integration_id, key)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
