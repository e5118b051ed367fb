-- +goose Up
-- Shardable by merchant (issue 13, docs/operations.md "Past one database"):
-- merchant_id leads every primary and unique key of a merchant's tables,
-- and every foreign key between them carries it, so that Citus can place
-- all of one merchant's rows on one shard and check each key there. The
-- catalog test (internal/platform/migrate, TestSchemaIsShardableByMerchant)
-- keeps new tables to these rules. On one PostgreSQL nothing changes but
-- the keys' shape; `feddi migrate` distributes the tables when it finds
-- Citus.
--
-- Each statement stands alone (Citus may refuse several in one string).
-- The keys are rebuilt: this takes each table's ACCESS EXCLUSIVE lock for
-- the time of an index build, so run it in a quiet window.

-- The stored results of keyed requests belong to the caller's merchant.
-- Every scope starts with the credential's integration id.
ALTER TABLE idempotency_keys ADD COLUMN merchant_id text;
UPDATE idempotency_keys k SET merchant_id = i.merchant_id FROM integrations i WHERE i.id = split_part(k.scope, '/', 1);
DELETE FROM idempotency_keys WHERE merchant_id IS NULL;
ALTER TABLE idempotency_keys ALTER COLUMN merchant_id SET NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (merchant_id, scope, key);

-- Webhook deliveries carry their endpoint's merchant.
ALTER TABLE webhook_deliveries ADD COLUMN merchant_id text;
UPDATE webhook_deliveries d SET merchant_id = e.merchant_id FROM webhook_endpoints e WHERE e.id = d.endpoint_id;
ALTER TABLE webhook_deliveries ALTER COLUMN merchant_id SET NOT NULL;

-- The foreign keys that name a merchant table's key without merchant_id,
-- or that point at a (merchant_id, id) unique key about to become the
-- primary key, go first; they come back below, merchant_id first.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_transaction_id_fkey;
ALTER TABLE grant_events DROP CONSTRAINT grant_events_transaction_id_fkey;
ALTER TABLE refunds DROP CONSTRAINT refunds_transaction_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey;
ALTER TABLE wallets DROP CONSTRAINT wallets_merchant_id_customer_id_fkey;
ALTER TABLE grants DROP CONSTRAINT grants_merchant_id_customer_id_fkey;
ALTER TABLE grants DROP CONSTRAINT grants_merchant_id_wallet_id_fkey;
ALTER TABLE verifications DROP CONSTRAINT verifications_merchant_id_customer_id_fkey;
ALTER TABLE verifications DROP CONSTRAINT verifications_merchant_id_wallet_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_customer_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_wallet_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_payment_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_customer_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_wallet_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_checkout_session_id_fkey;
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_merchant_id_customer_id_fkey;
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_merchant_id_wallet_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_merchant_id_wallet_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_merchant_id_grant_id_fkey;
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_merchant_id_wallet_id_fkey;
ALTER TABLE grant_events DROP CONSTRAINT grant_events_merchant_id_grant_id_fkey;
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_merchant_id_grant_id_fkey;
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_merchant_id_payment_id_fkey;
ALTER TABLE refunds DROP CONSTRAINT refunds_merchant_id_payment_id_fkey;

-- (merchant_id, id) becomes the primary key; the unique key it was goes.
ALTER TABLE customers DROP CONSTRAINT customers_merchant_id_id_key;
ALTER TABLE customers DROP CONSTRAINT customers_pkey;
ALTER TABLE customers ADD CONSTRAINT customers_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE wallets DROP CONSTRAINT wallets_merchant_id_id_key;
ALTER TABLE wallets DROP CONSTRAINT wallets_pkey;
ALTER TABLE wallets ADD CONSTRAINT wallets_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE grants DROP CONSTRAINT grants_merchant_id_id_key;
ALTER TABLE grants DROP CONSTRAINT grants_pkey;
ALTER TABLE grants ADD CONSTRAINT grants_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_id_key;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_pkey;
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_id_key;
ALTER TABLE payments DROP CONSTRAINT payments_pkey;
ALTER TABLE payments ADD CONSTRAINT payments_pkey PRIMARY KEY (merchant_id, id);

-- The other merchant tables: merchant_id first in the primary key.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_pkey;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pkey;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE grant_events DROP CONSTRAINT grant_events_pkey;
ALTER TABLE grant_events ADD CONSTRAINT grant_events_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE verifications DROP CONSTRAINT verifications_pkey;
ALTER TABLE verifications ADD CONSTRAINT verifications_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE verifications DROP CONSTRAINT verifications_wallet_id_key;
ALTER TABLE verifications ADD CONSTRAINT verifications_wallet_id_key UNIQUE (merchant_id, wallet_id);
ALTER TABLE sms_outbox DROP CONSTRAINT sms_outbox_pkey;
ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE sandbox_messages DROP CONSTRAINT sandbox_messages_pkey;
ALTER TABLE sandbox_messages ADD CONSTRAINT sandbox_messages_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_pkey;
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_pkey PRIMARY KEY (merchant_id, payment_id, position);
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_payment_id_grant_id_key;
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_payment_id_grant_id_key UNIQUE (merchant_id, payment_id, grant_id);
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_pkey;
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_payload_hash_key;
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_payload_hash_key UNIQUE (merchant_id, payload_hash);
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_pkey;
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey;
ALTER TABLE refunds ADD CONSTRAINT refunds_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE refunds DROP CONSTRAINT refunds_transaction_id_key;
ALTER TABLE refunds ADD CONSTRAINT refunds_transaction_id_key UNIQUE (merchant_id, transaction_id);
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (merchant_id, id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (merchant_id, id);

-- The foreign keys again, merchant_id first.
ALTER TABLE wallets ADD CONSTRAINT wallets_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE grants ADD CONSTRAINT grants_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE grants ADD CONSTRAINT grants_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE verifications ADD CONSTRAINT verifications_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE verifications ADD CONSTRAINT verifications_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_checkout_session_id_fkey FOREIGN KEY (merchant_id, checkout_session_id) REFERENCES checkout_sessions (merchant_id, id);
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id);
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id);
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id);
ALTER TABLE grant_events ADD CONSTRAINT grant_events_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id);
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id);
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id);
ALTER TABLE refunds ADD CONSTRAINT refunds_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id);
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_transaction_id_fkey FOREIGN KEY (merchant_id, transaction_id) REFERENCES ledger_transactions (merchant_id, id);
ALTER TABLE grant_events ADD CONSTRAINT grant_events_transaction_id_fkey FOREIGN KEY (merchant_id, transaction_id) REFERENCES ledger_transactions (merchant_id, id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE refunds ADD CONSTRAINT refunds_transaction_id_fkey FOREIGN KEY (merchant_id, transaction_id) REFERENCES ledger_transactions (merchant_id, id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (merchant_id, endpoint_id) REFERENCES webhook_endpoints (merchant_id, id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (merchant_id, event_id) REFERENCES events (merchant_id, id) ON DELETE CASCADE;

-- Indexes that lead with a child key now lead with merchant_id, so that
-- each stays usable by the shard's queries (which all carry merchant_id).
DROP INDEX ledger_entries_transaction_idx;
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (merchant_id, transaction_id);
DROP INDEX webhook_deliveries_listing;
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (merchant_id, endpoint_id, attempted_at DESC, id DESC);
DROP INDEX webhook_deliveries_event_idx;
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (merchant_id, event_id);

-- The money rules read only their own merchant's rows: on Citus a trigger
-- runs on the shard, and a lookup with merchant_id stays on that shard.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_transactions_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM ledger_entries WHERE merchant_id = NEW.merchant_id AND transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has 0 entries; at least 2 are required', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_entries_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn        record;
    n          bigint;
    unbalanced boolean;
    mismatch   boolean;
BEGIN
    FOR txn IN SELECT DISTINCT merchant_id, transaction_id FROM new_entries LOOP
        -- One pass over the transaction's entries, grouped per currency and
        -- money class, by key (merchant_id, transaction_id): the plan
        -- PL/pgSQL caches stays on the indexes however the tables grow. A
        -- transaction row it cannot see (the foreign key refuses that
        -- anyway) counts as a mismatch: the guard fails closed.
        SELECT coalesce(sum(g.n), 0), coalesce(bool_or(g.total <> 0), false), coalesce(bool_or(g.mismatch), false)
        INTO n, unbalanced, mismatch
        FROM (
            SELECT count(*) AS n, sum(e.amount_minor) AS total,
                   bool_or(t.id IS NULL OR e.currency <> t.currency
                           OR (e.wallet_id IS NOT NULL AND e.wallet_id <> t.wallet_id)) AS mismatch
            FROM ledger_entries e
            LEFT JOIN ledger_transactions t ON t.merchant_id = txn.merchant_id AND t.id = txn.transaction_id
            WHERE e.merchant_id = txn.merchant_id AND e.transaction_id = txn.transaction_id
            GROUP BY e.currency, e.money_class
        ) g;
        IF n < 2 THEN
            RAISE EXCEPTION 'ledger transaction % has % entries; at least 2 are required', txn.transaction_id, n
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        IF unbalanced THEN
            RAISE EXCEPTION 'ledger transaction % does not sum to zero per currency and money class', txn.transaction_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        IF mismatch THEN
            RAISE EXCEPTION 'ledger transaction % has entries of another merchant, currency or wallet', txn.transaction_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- An event and its webhook jobs are written by one call on the
-- coordinator: a trigger would run on the events shard, where River's
-- tables (kept on the coordinator) are not. One job per subscribed
-- endpoint, committed or rolled back with the event (at least once).
DROP TRIGGER events_webhook_fanout ON events;
DROP FUNCTION webhook_fanout();

-- +goose StatementBegin
-- The endpoints are read first and the jobs inserted from that list: on
-- Citus an INSERT into a coordinator table that SELECTs from a
-- distributed one reads every shard.
CREATE FUNCTION event_record(p_id text, p_merchant_id text, p_integration_id text, p_type text,
    p_api_version text, p_data jsonb, p_created_at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    endpoints text[];
BEGIN
    INSERT INTO events (id, merchant_id, integration_id, type, api_version, data, created_at)
    VALUES (p_id, p_merchant_id, p_integration_id, p_type, p_api_version, p_data, p_created_at);
    SELECT array_agg(e.id) INTO endpoints
    FROM webhook_endpoints e
    WHERE e.merchant_id = p_merchant_id AND e.status = 'enabled'
      AND (p_integration_id IS NULL OR e.integration_id = p_integration_id)
      AND p_type = ANY (e.event_types);
    IF endpoints IS NOT NULL THEN
        INSERT INTO river_job (args, kind, max_attempts, queue)
        SELECT jsonb_build_object('endpoint_id', endpoint, 'event_id', p_id, 'merchant_id', p_merchant_id),
               'webhook_delivery', 100, 'default'
        FROM unnest(endpoints) AS endpoint;
    END IF;
END;
$$;
-- +goose StatementEnd

-- A QR payload or short code is used behind the terminal's guess gate by
-- one call (it was one statement whose first step called
-- rate_limit_gate): Citus sends a statement on one merchant's rows to that
-- merchant's shard whole, and a function reading a distributed table may
-- not run inside a statement on a shard. The function runs where it is
-- called (on Citus, the coordinator), and each of its statements goes to
-- the shard. Exactly one of p_payload_hash and p_short_code_hash is set.
-- +goose StatementBegin
CREATE FUNCTION qr_token_use(p_merchant_id text, p_lock_subject text, p_buckets text[], p_subjects text[],
    p_window_seconds double precision[], p_interval_seconds double precision[], p_now timestamptz,
    p_payment_id text, p_payload_hash bytea, p_short_code_hash bytea,
    OUT wait_seconds double precision, OUT wallet_id text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    wait_seconds := rate_limit_gate(p_merchant_id, p_lock_subject, p_buckets, p_subjects,
                                    p_window_seconds, p_interval_seconds, p_now);
    IF wait_seconds <= 0 AND p_payload_hash IS NOT NULL THEN
        UPDATE qr_tokens t
        SET used_at = p_now, retired_at = p_now, payment_id = p_payment_id
        WHERE t.merchant_id = p_merchant_id AND t.payload_hash = p_payload_hash
          AND t.retired_at IS NULL AND t.qr_expires_at > p_now
        RETURNING t.wallet_id INTO wallet_id;
    ELSIF wait_seconds <= 0 THEN
        UPDATE qr_tokens t
        SET used_at = p_now, retired_at = p_now, payment_id = p_payment_id
        WHERE t.merchant_id = p_merchant_id AND t.short_code_hash = p_short_code_hash
          AND t.retired_at IS NULL AND t.short_code_expires_at > p_now
        RETURNING t.wallet_id INTO wallet_id;
    END IF;
    wallet_id := coalesce(wallet_id, '');
END;
$$;
-- +goose StatementEnd

-- A hit counts in each bucket by a single-row upsert per bucket: Citus
-- routes each to the merchant's shard with its values filled in (an
-- INSERT … SELECT with parameters in DO UPDATE reaches the worker with
-- untyped parameters), and DO UPDATE uses only IMMUTABLE functions (the
-- arithmetic is in UTC wall time: timestamptz + interval is STABLE).
-- +goose StatementBegin
CREATE FUNCTION rate_limit_hit(p_merchant_id text, p_buckets text[], p_subjects text[],
    p_interval_seconds double precision[], p_now timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    step interval;
    next timestamptz;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_buckets, 1), 0) LOOP
        step := make_interval(secs => p_interval_seconds[i]);
        next := timezone('UTC', timezone('UTC', p_now) + step);
        INSERT INTO rate_limits AS r (merchant_id, bucket, subject, tat)
        VALUES (p_merchant_id, p_buckets[i], p_subjects[i], next)
        ON CONFLICT (merchant_id, bucket, subject) DO UPDATE
        SET tat = timezone('UTC', timezone('UTC', greatest(r.tat, p_now)) + step);
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- Delivery jobs already queued learn their endpoint's or message's
-- merchant (on a new database River's tables come after these
-- migrations).
-- +goose StatementBegin
DO $$ BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        UPDATE river_job j SET args = j.args || jsonb_build_object('merchant_id', e.merchant_id)
        FROM webhook_endpoints e
        WHERE j.kind = 'webhook_delivery' AND j.finalized_at IS NULL AND e.id = j.args->>'endpoint_id';
        UPDATE river_job j SET args = j.args || jsonb_build_object('merchant_id', m.merchant_id)
        FROM sms_outbox m
        WHERE j.kind = 'sms_send' AND j.finalized_at IS NULL AND m.id = j.args->>'message_id';
    END IF;
END $$;
-- +goose StatementEnd

-- The claim of a keyed request names its merchant (the key's shard).
DROP FUNCTION idempotency_claim(text, text);
DROP FUNCTION idempotency_claim(text, text, timestamptz);

-- +goose StatementBegin
-- idempotency_claim takes the transaction-scoped lock of one key (false:
-- a request holding the same key still runs) and, holding it, reads the
-- key's stored result if it has not expired at p_now (see 00011). The lock
-- is taken where the function runs: on Citus, the coordinator every
-- request goes through.
CREATE FUNCTION idempotency_claim(p_merchant_id text, p_scope text, p_key text, p_now timestamptz,
    OUT locked boolean, OUT fingerprint bytea, OUT status_code integer, OUT response_body bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    locked := pg_try_advisory_xact_lock(hashtextextended(p_merchant_id || ':' || p_scope || ':' || p_key, 0));
    IF locked THEN
        SELECT k.fingerprint, k.status_code, k.response_body
        INTO fingerprint, status_code, response_body
        FROM idempotency_keys k
        WHERE k.merchant_id = p_merchant_id AND k.scope = p_scope AND k.key = p_key AND k.expires_at > p_now;
    END IF;
    status_code := coalesce(status_code, 0); -- 0: nothing stored
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- The keys and functions as 00016 left them.
DROP FUNCTION rate_limit_hit(text, text[], text[], double precision[], timestamptz);
DROP FUNCTION qr_token_use(text, text, text[], text[], double precision[], double precision[], timestamptz, text, bytea, bytea);
DROP FUNCTION idempotency_claim(text, text, text, timestamptz);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION idempotency_claim(p_scope text, p_key text, OUT locked boolean, OUT fingerprint bytea, OUT status_code integer, OUT response_body bytea)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
BEGIN
    locked := pg_try_advisory_xact_lock(hashtextextended(p_scope || ':' || p_key, 0));
    IF locked THEN
        SELECT k.fingerprint, k.status_code, k.response_body
        INTO fingerprint, status_code, response_body
        FROM idempotency_keys k
        WHERE k.scope = p_scope AND k.key = p_key AND k.expires_at > now();
    END IF;
    status_code := coalesce(status_code, 0); -- 0: nothing stored
END;
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION idempotency_claim(p_scope text, p_key text, p_now timestamp with time zone, OUT locked boolean, OUT fingerprint bytea, OUT status_code integer, OUT response_body bytea)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
BEGIN
    locked := pg_try_advisory_xact_lock(hashtextextended(p_scope || ':' || p_key, 0));
    IF locked THEN
        SELECT k.fingerprint, k.status_code, k.response_body
        INTO fingerprint, status_code, response_body
        FROM idempotency_keys k
        WHERE k.scope = p_scope AND k.key = p_key AND k.expires_at > p_now;
    END IF;
    status_code := coalesce(status_code, 0); -- 0: nothing stored
END;
$function$;
-- +goose StatementEnd
DROP FUNCTION event_record(text, text, text, text, text, jsonb, timestamptz);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION webhook_fanout()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO river_job (args, kind, max_attempts, queue)
    SELECT jsonb_build_object('endpoint_id', e.id, 'event_id', NEW.id), 'webhook_delivery', 100, 'default'
    FROM webhook_endpoints e
    WHERE e.merchant_id = NEW.merchant_id AND e.status = 'enabled'
      AND (NEW.integration_id IS NULL OR e.integration_id = NEW.integration_id)
      AND NEW.type = ANY (e.event_types);
    RETURN NULL;
END;
$function$;
-- +goose StatementEnd
CREATE TRIGGER events_webhook_fanout AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION webhook_fanout();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_entries_check_balanced()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    txn_id     text;
    n          bigint;
    unbalanced boolean;
    mismatch   boolean;
BEGIN
    FOR txn_id IN SELECT DISTINCT transaction_id FROM new_entries LOOP
        -- One pass over the transaction's entries, grouped per currency and
        -- money class. The lookups are by key (transaction_id = $1), so the
        -- plan PL/pgSQL caches stays on the indexes however the tables grow
        -- (a join with new_entries was planned once, on empty tables, as a
        -- sequential scan of ledger_transactions, and kept). A transaction
        -- row it cannot see (the foreign key refuses that anyway) counts as
        -- a mismatch: the guard fails closed.
        SELECT coalesce(sum(g.n), 0), coalesce(bool_or(g.total <> 0), false), coalesce(bool_or(g.mismatch), false)
        INTO n, unbalanced, mismatch
        FROM (
            SELECT count(*) AS n, sum(e.amount_minor) AS total,
                   bool_or(t.id IS NULL OR e.merchant_id <> t.merchant_id OR e.currency <> t.currency
                           OR (e.wallet_id IS NOT NULL AND e.wallet_id <> t.wallet_id)) AS mismatch
            FROM ledger_entries e
            LEFT JOIN ledger_transactions t ON t.id = txn_id
            WHERE e.transaction_id = txn_id
            GROUP BY e.currency, e.money_class
        ) g;
        IF n < 2 THEN
            RAISE EXCEPTION 'ledger transaction % has % entries; at least 2 are required', txn_id, n
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        IF unbalanced THEN
            RAISE EXCEPTION 'ledger transaction % does not sum to zero per currency and money class', txn_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        IF mismatch THEN
            RAISE EXCEPTION 'ledger transaction % has entries of another merchant, currency or wallet', txn_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_transactions_check_entries()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT EXISTS (SELECT FROM ledger_entries WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has 0 entries; at least 2 are required', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
    END IF;
    RETURN NULL;
END;
$function$;
-- +goose StatementEnd
DROP INDEX ledger_entries_transaction_idx;
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
DROP INDEX webhook_deliveries_listing;
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (endpoint_id, attempted_at DESC, id DESC);
DROP INDEX webhook_deliveries_event_idx;
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
ALTER TABLE wallets DROP CONSTRAINT wallets_merchant_id_customer_id_fkey;
ALTER TABLE grants DROP CONSTRAINT grants_merchant_id_customer_id_fkey;
ALTER TABLE grants DROP CONSTRAINT grants_merchant_id_wallet_id_fkey;
ALTER TABLE verifications DROP CONSTRAINT verifications_merchant_id_customer_id_fkey;
ALTER TABLE verifications DROP CONSTRAINT verifications_merchant_id_wallet_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_customer_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_wallet_id_fkey;
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_merchant_id_payment_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_customer_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_wallet_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_merchant_id_checkout_session_id_fkey;
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_merchant_id_customer_id_fkey;
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_merchant_id_wallet_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_merchant_id_wallet_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_merchant_id_grant_id_fkey;
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_merchant_id_wallet_id_fkey;
ALTER TABLE grant_events DROP CONSTRAINT grant_events_merchant_id_grant_id_fkey;
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_merchant_id_grant_id_fkey;
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_merchant_id_payment_id_fkey;
ALTER TABLE refunds DROP CONSTRAINT refunds_merchant_id_payment_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_transaction_id_fkey;
ALTER TABLE grant_events DROP CONSTRAINT grant_events_transaction_id_fkey;
ALTER TABLE refunds DROP CONSTRAINT refunds_transaction_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey;
ALTER TABLE customers DROP CONSTRAINT customers_pkey;
ALTER TABLE customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE customers ADD CONSTRAINT customers_merchant_id_id_key UNIQUE (merchant_id, id);
ALTER TABLE wallets DROP CONSTRAINT wallets_pkey;
ALTER TABLE wallets ADD CONSTRAINT wallets_pkey PRIMARY KEY (id);
ALTER TABLE wallets ADD CONSTRAINT wallets_merchant_id_id_key UNIQUE (merchant_id, id);
ALTER TABLE grants DROP CONSTRAINT grants_pkey;
ALTER TABLE grants ADD CONSTRAINT grants_pkey PRIMARY KEY (id);
ALTER TABLE grants ADD CONSTRAINT grants_merchant_id_id_key UNIQUE (merchant_id, id);
ALTER TABLE checkout_sessions DROP CONSTRAINT checkout_sessions_pkey;
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_pkey PRIMARY KEY (id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_id_key UNIQUE (merchant_id, id);
ALTER TABLE payments DROP CONSTRAINT payments_pkey;
ALTER TABLE payments ADD CONSTRAINT payments_pkey PRIMARY KEY (id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_id_key UNIQUE (merchant_id, id);
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_pkey;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_pkey PRIMARY KEY (id);
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pkey;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id);
ALTER TABLE grant_events DROP CONSTRAINT grant_events_pkey;
ALTER TABLE grant_events ADD CONSTRAINT grant_events_pkey PRIMARY KEY (id);
ALTER TABLE verifications DROP CONSTRAINT verifications_pkey;
ALTER TABLE verifications ADD CONSTRAINT verifications_pkey PRIMARY KEY (id);
ALTER TABLE sms_outbox DROP CONSTRAINT sms_outbox_pkey;
ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_pkey PRIMARY KEY (id);
ALTER TABLE sandbox_messages DROP CONSTRAINT sandbox_messages_pkey;
ALTER TABLE sandbox_messages ADD CONSTRAINT sandbox_messages_pkey PRIMARY KEY (id);
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_pkey;
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_pkey PRIMARY KEY (id);
ALTER TABLE otp_challenges DROP CONSTRAINT otp_challenges_pkey;
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_pkey PRIMARY KEY (id);
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey;
ALTER TABLE refunds ADD CONSTRAINT refunds_pkey PRIMARY KEY (id);
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);
ALTER TABLE verifications DROP CONSTRAINT verifications_wallet_id_key;
ALTER TABLE verifications ADD CONSTRAINT verifications_wallet_id_key UNIQUE (wallet_id);
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_pkey;
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_pkey PRIMARY KEY (payment_id, position);
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_payment_id_grant_id_key;
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_payment_id_grant_id_key UNIQUE (payment_id, grant_id);
ALTER TABLE qr_tokens DROP CONSTRAINT qr_tokens_payload_hash_key;
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_payload_hash_key UNIQUE (payload_hash);
ALTER TABLE refunds DROP CONSTRAINT refunds_transaction_id_key;
ALTER TABLE refunds ADD CONSTRAINT refunds_transaction_id_key UNIQUE (transaction_id);
ALTER TABLE wallets ADD CONSTRAINT wallets_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE grants ADD CONSTRAINT grants_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE grants ADD CONSTRAINT grants_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE verifications ADD CONSTRAINT verifications_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE verifications ADD CONSTRAINT verifications_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments(merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE payments ADD CONSTRAINT payments_merchant_id_checkout_session_id_fkey FOREIGN KEY (merchant_id, checkout_session_id) REFERENCES checkout_sessions(merchant_id, id);
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_merchant_id_customer_id_fkey FOREIGN KEY (merchant_id, customer_id) REFERENCES customers(merchant_id, id);
ALTER TABLE otp_challenges ADD CONSTRAINT otp_challenges_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants(merchant_id, id);
ALTER TABLE qr_tokens ADD CONSTRAINT qr_tokens_merchant_id_wallet_id_fkey FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets(merchant_id, id);
ALTER TABLE grant_events ADD CONSTRAINT grant_events_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants(merchant_id, id);
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_merchant_id_grant_id_fkey FOREIGN KEY (merchant_id, grant_id) REFERENCES grants(merchant_id, id);
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments(merchant_id, id);
ALTER TABLE refunds ADD CONSTRAINT refunds_merchant_id_payment_id_fkey FOREIGN KEY (merchant_id, payment_id) REFERENCES payments(merchant_id, id);
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES ledger_transactions(id);
ALTER TABLE grant_events ADD CONSTRAINT grant_events_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES ledger_transactions(id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE refunds ADD CONSTRAINT refunds_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES ledger_transactions(id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints(id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE webhook_deliveries DROP COLUMN merchant_id;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key);
ALTER TABLE idempotency_keys DROP COLUMN merchant_id;
