-- +goose Up
-- Webhooks (issue 10, part 2): endpoints, their delivery attempts, and the
-- fan-out of each event to River jobs in the event's own transaction.
--
-- An endpoint belongs to the integration that registered it and receives
-- the events that integration reads at GET /events (its merchant's
-- merchant-wide events and its own), of the types it subscribed to.
-- Secrets are sealed with the KEK (AES-256-GCM, the endpoint id as
-- additional data); during a rotation the previous secret keeps signing
-- until previous_secret_expires_at.

CREATE TABLE webhook_endpoints (
    id                         text        PRIMARY KEY CHECK (id ~ '^we_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id                text        NOT NULL REFERENCES merchants (id),
    integration_id             text        NOT NULL REFERENCES integrations (id),
    url                        text        NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    event_types                text[]      NOT NULL CHECK (cardinality(event_types) > 0),
    description                text        CHECK (char_length(description) <= 500),
    secret_sealed              bytea       NOT NULL,
    previous_secret_sealed     bytea,
    previous_secret_expires_at timestamptz,
    status                     text        NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'deleted')),
    failing_since              timestamptz,
    disabled_at                timestamptz,
    created_at                 timestamptz NOT NULL
);

CREATE INDEX webhook_endpoints_fanout ON webhook_endpoints (merchant_id) WHERE status = 'enabled';
CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (integration_id, created_at DESC, id DESC) WHERE status <> 'deleted';

CREATE TABLE webhook_deliveries (
    id           text        PRIMARY KEY CHECK (id ~ '^wd_[0-9A-HJKMNP-TV-Z]{26}$'),
    endpoint_id  text        NOT NULL REFERENCES webhook_endpoints (id),
    event_id     text        NOT NULL REFERENCES events (id),
    attempt      integer     NOT NULL CHECK (attempt >= 1),
    status_code  integer,
    latency_ms   integer     NOT NULL CHECK (latency_ms >= 0),
    succeeded    boolean     NOT NULL,
    error        text,
    attempted_at timestamptz NOT NULL
);

CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (endpoint_id, attempted_at DESC, id DESC);

-- One River job per subscribed endpoint, inserted by the event's INSERT:
-- the job commits, or rolls back, with the event and the change it
-- records (at least once). River's schema is applied by `feddi migrate`
-- next to these migrations; the function resolves river_job when it runs.
-- +goose StatementBegin
CREATE FUNCTION webhook_fanout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO river_job (args, kind, max_attempts, queue)
    SELECT jsonb_build_object('endpoint_id', e.id, 'event_id', NEW.id), 'webhook_delivery', 100, 'default'
    FROM webhook_endpoints e
    WHERE e.merchant_id = NEW.merchant_id AND e.status = 'enabled'
      AND (NEW.integration_id IS NULL OR e.integration_id = NEW.integration_id)
      AND NEW.type = ANY (e.event_types);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_webhook_fanout AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION webhook_fanout();

-- +goose Down
DROP TRIGGER events_webhook_fanout ON events;
DROP FUNCTION webhook_fanout();
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
