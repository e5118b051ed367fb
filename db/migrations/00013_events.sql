-- +goose Up
-- The event log (issue 10): every state change an integrator cares about,
-- written in the transaction of the change (internal/events).
--
-- txid is the writing transaction's id (pg_current_xact_id(), the top-level
-- transaction's even inside a savepoint). GET /events serves only events
-- whose transaction is older than every transaction still running
-- (txid < pg_snapshot_xmin(pg_current_snapshot())) and pages by
-- (txid, id): an event can then never appear behind a cursor already
-- handed out, although transactions commit out of id order. xid8 never
-- wraps; it is stored as bigint (its value fits) so that sqlc and pgx read
-- it as an int64.
--
-- integration_id: the integration that owns the object (payments, top-ups,
-- API keys); NULL for merchant-wide objects (grants, wallets), which every
-- integration of the merchant reads.

CREATE TABLE events (
    id             text        PRIMARY KEY CHECK (id ~ '^evt_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id    text        NOT NULL REFERENCES merchants (id),
    integration_id text        REFERENCES integrations (id),
    type           text        NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    api_version    text        NOT NULL,
    data           jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    created_at     timestamptz NOT NULL,
    txid           bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);

CREATE INDEX events_merchant_order ON events (merchant_id, txid, id);

-- +goose Down
DROP TABLE events;
