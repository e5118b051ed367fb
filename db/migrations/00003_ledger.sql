-- +goose Up
-- Customers, wallets, the double-entry ledger, promotional grants and the
-- top-up catalog. Every row carries its merchant; composite foreign keys on
-- (merchant_id, id) make a row of one merchant naming another's impossible.
--
-- Money rules the database enforces by itself (docs/money.md):
--   * a ledger transaction has at least two entries, and its entries sum to
--     zero per currency AND per money class (actual, promo): actual money and
--     promotional credit never cross; they are of their transaction's
--     merchant, currency and wallet (checked at the end of every statement
--     that inserts entries, with all of the transaction's entries, so an
--     entry appended later is re-checked; a transaction without entries is
--     refused at commit);
--   * entries and transactions are append-only (triggers refuse UPDATE,
--     DELETE and TRUNCATE);
--   * wallet balances never go negative and actual money stays under the
--     ceiling of 10^12 minor units (CHECK);
--   * a pending_proof wallet holds no available promo.

CREATE TABLE customers (
    id                   text        PRIMARY KEY CHECK (id ~ '^cus_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id          text        NOT NULL REFERENCES merchants (id),
    display_name         text        CHECK (char_length(display_name) BETWEEN 1 AND 100),
    phone                text        NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    card_fingerprint     text        CHECK (char_length(card_fingerprint) BETWEEN 1 AND 512),
    provider_customer_id text        CHECK (char_length(provider_customer_id) BETWEEN 1 AND 512),
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id),
    CONSTRAINT customers_phone_key UNIQUE (merchant_id, phone)
);

CREATE UNIQUE INDEX customers_card_fingerprint_key ON customers (merchant_id, card_fingerprint) WHERE card_fingerprint IS NOT NULL;
CREATE UNIQUE INDEX customers_provider_customer_id_key ON customers (merchant_id, provider_customer_id) WHERE provider_customer_id IS NOT NULL;

CREATE TABLE wallets (
    id                    text        PRIMARY KEY CHECK (id ~ '^wal_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id           text        NOT NULL,
    customer_id           text        NOT NULL,
    currency              text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status                text        NOT NULL CHECK (status IN ('pending_proof', 'verified')),
    verified_at           timestamptz,
    -- The balance, always equal to the sum of the wallet accounts' entries
    -- (updated by the same statement that writes them: ledger.Post).
    actual_minor          bigint      NOT NULL DEFAULT 0 CHECK (actual_minor BETWEEN 0 AND 1000000000000),
    promo_available_minor bigint      NOT NULL DEFAULT 0 CHECK (promo_available_minor >= 0),
    promo_locked_minor    bigint      NOT NULL DEFAULT 0 CHECK (promo_locked_minor >= 0),
    -- Earliest expires_at of the wallet's live grants: the sweeper's index
    -- and the lazy-expiry check that costs no extra statement.
    next_promo_expiry_at  timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id),
    CONSTRAINT wallets_customer_currency_key UNIQUE (merchant_id, customer_id, currency),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    CHECK ((status = 'verified') = (verified_at IS NOT NULL)),
    CHECK (status = 'verified' OR promo_available_minor = 0)
);

CREATE INDEX wallets_next_promo_expiry_idx ON wallets (next_promo_expiry_at) WHERE next_promo_expiry_at IS NOT NULL;

CREATE TABLE grants (
    id              text        PRIMARY KEY CHECK (id ~ '^grt_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id     text        NOT NULL,
    -- The integration whose request issued it; its expiry is booked there.
    integration_id  text        NOT NULL,
    wallet_id       text        NOT NULL,
    customer_id     text        NOT NULL,
    source          text        NOT NULL CHECK (source IN ('welcome', 'reload_bonus', 'sku_bonus')),
    source_ref      text        CHECK (char_length(source_ref) BETWEEN 1 AND 128),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    original_minor  bigint      NOT NULL CHECK (original_minor BETWEEN 1 AND 1000000000000),
    remaining_minor bigint      NOT NULL CHECK (remaining_minor >= 0 AND remaining_minor <= original_minor),
    state           text        NOT NULL CHECK (state IN ('locked', 'available', 'consumed', 'expired', 'clawed_back')),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id),
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    -- Live grants hold promo; consumed, expired and clawed-back ones hold none.
    CHECK ((state IN ('locked', 'available')) = (remaining_minor > 0))
);

-- +goose StatementBegin
-- The grant state machine (docs/incentives.md), enforced by the database: expired
-- and clawed_back are final, consumed only comes back to available, and
-- nothing goes back to locked.
CREATE FUNCTION grants_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state <> OLD.state AND NOT (OLD.state, NEW.state) IN (
        ('locked', 'available'), ('locked', 'expired'), ('locked', 'clawed_back'),
        ('available', 'consumed'), ('available', 'expired'), ('available', 'clawed_back'),
        ('consumed', 'available')
    ) THEN
        RAISE EXCEPTION 'grant %: % -> % is not a transition of the grant state machine', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grants_state_machine';
    END IF;
    IF (NEW.id, NEW.merchant_id, NEW.wallet_id, NEW.customer_id, NEW.currency, NEW.original_minor, NEW.source)
       IS DISTINCT FROM (OLD.id, OLD.merchant_id, OLD.wallet_id, OLD.customer_id, OLD.currency, OLD.original_minor, OLD.source) THEN
        RAISE EXCEPTION 'grant %: only its state and remaining amount change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grants_state_machine';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER grants_state_machine
    BEFORE UPDATE ON grants
    FOR EACH ROW EXECUTE FUNCTION grants_check_transition();

-- Spending order and expiry: a wallet's live grants by expiry, then age.
CREATE INDEX grants_wallet_live_idx ON grants (wallet_id, expires_at, created_at, id) WHERE state IN ('locked', 'available');
-- GET /customers/{id}/grants, newest first.
CREATE INDEX grants_customer_idx ON grants (merchant_id, customer_id, created_at DESC, id DESC);

CREATE TABLE ledger_transactions (
    id                          text        PRIMARY KEY CHECK (id ~ '^txn_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id                 text        NOT NULL,
    integration_id              text        NOT NULL,
    type                        text        NOT NULL CHECK (type IN (
        'topup', 'sku_topup', 'payment_authorization', 'payment_capture', 'payment_release',
        'payment_expiry', 'promo_grant', 'promo_release', 'promo_expiry', 'promo_clawback')),
    wallet_id                   text        NOT NULL,
    customer_id                 text        NOT NULL,
    currency                    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor                bigint      NOT NULL CHECK (amount_minor >= 0),
    -- The wallet's change, by money class (the sum of its wallet entries).
    actual_delta_minor          bigint      NOT NULL,
    promo_delta_minor           bigint      NOT NULL,
    -- The wallet's balance right after this transaction.
    actual_after_minor          bigint      NOT NULL,
    promo_available_after_minor bigint      NOT NULL,
    promo_locked_after_minor    bigint      NOT NULL,
    next_promo_expiry_after     timestamptz,
    -- References.
    payment_id                  text,
    grant_id                    text,
    settlement_reference        text        CHECK (char_length(settlement_reference) BETWEEN 1 AND 128),
    provider                    text        CHECK (provider ~ '^[a-z0-9_]{1,32}$'),
    sku_id                      text,
    pos_reference               text,
    -- The request context.
    terminal_id                 text,
    location_id                 text,
    operator_id                 text,
    created_at                  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (merchant_id, id),
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id),
    CHECK ((settlement_reference IS NULL) = (provider IS NULL))
);

-- A settled top-up is credited once per merchant (settlement_reference_already_used).
CREATE UNIQUE INDEX ledger_transactions_settlement_key ON ledger_transactions (merchant_id, provider, settlement_reference) WHERE settlement_reference IS NOT NULL;
-- GET /{integrationId}/transactions, newest first, keyset on (created_at, id).
CREATE INDEX ledger_transactions_integration_idx ON ledger_transactions (integration_id, created_at DESC, id DESC);
-- A customer's latest transactions (lookup).
CREATE INDEX ledger_transactions_customer_idx ON ledger_transactions (merchant_id, customer_id, created_at DESC, id DESC);
-- Whether a SKU was ever sold (its currency is then frozen).
CREATE INDEX ledger_transactions_sku_idx ON ledger_transactions (merchant_id, sku_id) WHERE sku_id IS NOT NULL;

CREATE TABLE ledger_entries (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id text        NOT NULL REFERENCES ledger_transactions (id),
    merchant_id    text        NOT NULL,
    -- kind:owner:class[:sub], e.g. wallet:wal_…:actual, hold:pay_…:promo,
    -- merchant:mer_…:topup_clearing:adyen (internal/ledger/account.go).
    account        text        NOT NULL CHECK (account ~ '^(wallet:wal_[0-9A-HJKMNP-TV-Z]{26}:(actual|promo_available|promo_locked)|hold:pay_[0-9A-HJKMNP-TV-Z]{26}:(actual|promo)|merchant:mer_[0-9A-HJKMNP-TV-Z]{26}:[a-z_]{1,32}(:[a-z0-9_]{1,32})?)$'),
    -- The money class follows from the account: its third segment starts
    -- with "promo" for promotional credit. Derived, so it cannot disagree.
    money_class    text        NOT NULL GENERATED ALWAYS AS (CASE WHEN split_part(account, ':', 3) LIKE 'promo%' THEN 'promo' ELSE 'actual' END) STORED,
    wallet_id      text        GENERATED ALWAYS AS (CASE WHEN account LIKE 'wallet:%' THEN split_part(account, ':', 2) END) STORED,
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor   bigint      NOT NULL CHECK (amount_minor <> 0),
    CHECK (account NOT LIKE 'merchant:%' OR split_part(account, ':', 2) = merchant_id)
);

CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_wallet_idx ON ledger_entries (wallet_id) WHERE wallet_id IS NOT NULL;

-- +goose StatementBegin
-- The balance guard, in two parts that together refuse every transaction
-- the old per-entry commit check refused, for a fraction of its work:
--
-- ledger_entries_check_balanced runs ONCE per statement that inserts
-- entries (not once per entry), at the end of that statement: for ledger.Post
-- that is the end of its one statement, when the transaction row written by
-- the sibling CTE and all of its entries are visible. For each transaction
-- the statement gave entries to, one query reads ALL of that transaction's
-- entries (new and earlier ones, by ledger_entries_transaction_idx) and
-- refuses fewer than two entries, entries that do not sum to zero per
-- currency and money class, and entries of another merchant, currency or
-- wallet than their transaction. So a transaction's entries come in one
-- statement, and an entry appended later to a committed transaction is
-- re-checked with all the entries before it.
--
-- ledger_transactions_check_entries runs at commit (deferred), once per
-- transaction row, for the one case no entries statement can see: a
-- transaction with no entries at all. One index probe is enough: any entry
-- came with a statement whose check proved the whole transaction valid,
-- entries are never updated or deleted, and a rolled-back savepoint only
-- takes the database back to the end of an earlier, checked, statement.
CREATE FUNCTION ledger_entries_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
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
$$;

CREATE FUNCTION ledger_transactions_check_entries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM ledger_entries WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transaction % has 0 entries; at least 2 are required', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_balanced
    AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check_balanced();

CREATE CONSTRAINT TRIGGER ledger_transactions_balanced
    AFTER INSERT ON ledger_transactions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transactions_check_entries();

CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_entries_no_truncate
    BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_transactions_append_only
    BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_transactions_no_truncate
    BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- A grant's history: every state transition, append-only.
CREATE TABLE grant_events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id    text        NOT NULL,
    grant_id       text        NOT NULL,
    from_state     text        CHECK (from_state IN ('locked', 'available', 'consumed', 'expired', 'clawed_back')),
    to_state       text        NOT NULL CHECK (to_state IN ('locked', 'available', 'consumed', 'expired', 'clawed_back')),
    reason         text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 64),
    -- Promo the transition moved (issued, released, expired, clawed back, spent).
    amount_minor   bigint      NOT NULL CHECK (amount_minor >= 0),
    transaction_id text        REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
    -- Clawback reason (fraud, voided_topup, …) and the operator's note.
    detail         text        CHECK (char_length(detail) <= 64),
    note           text        CHECK (char_length(note) <= 500),
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id)
);

CREATE INDEX grant_events_grant_idx ON grant_events (grant_id, id);

CREATE TRIGGER grant_events_append_only
    BEFORE UPDATE OR DELETE ON grant_events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Reload-bonus tiers, one row per version; the highest version is current.
CREATE TABLE reload_bonus_configs (
    merchant_id           text        NOT NULL REFERENCES merchants (id),
    currency              text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    version               integer     NOT NULL CHECK (version >= 1),
    -- [{min_topup_minor, bonus_bps, bonus_fixed_minor, max_bonus_minor}], ascending.
    tiers                 jsonb       NOT NULL CHECK (jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) BETWEEN 1 AND 20),
    bonus_expires_in_days integer     NOT NULL CHECK (bonus_expires_in_days BETWEEN 1 AND 365),
    active                boolean     NOT NULL,
    integration_id        text        NOT NULL,
    operator_id           text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, currency, version),
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id)
);

-- The merchant's SKU catalog; sku_id is merchant-chosen.
CREATE TABLE skus (
    merchant_id           text        NOT NULL REFERENCES merchants (id),
    sku_id                text        NOT NULL CHECK (sku_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    currency              text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    face_value_minor      bigint      NOT NULL CHECK (face_value_minor BETWEEN 1 AND 1000000000000),
    bonus_minor           bigint      NOT NULL CHECK (bonus_minor BETWEEN 0 AND 1000000000000),
    bonus_expires_in_days integer     NOT NULL CHECK (bonus_expires_in_days BETWEEN 1 AND 365),
    active                boolean     NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, sku_id)
);

CREATE INDEX skus_updated_idx ON skus (merchant_id, updated_at DESC, sku_id DESC);

-- +goose Down
DROP TABLE skus;
DROP TABLE reload_bonus_configs;
DROP TABLE grant_events;
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP FUNCTION ledger_refuse_change();
DROP FUNCTION ledger_transactions_check_entries();
DROP FUNCTION ledger_entries_check_balanced();
DROP TABLE grants;
DROP FUNCTION grants_check_transition();
DROP TABLE wallets;
DROP TABLE customers;
