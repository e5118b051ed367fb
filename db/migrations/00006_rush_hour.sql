-- +goose Up
-- The till at rush hour (docs/money.md, docs/idempotency-and-errors.md,
-- docs/benchmarks.md):
--
-- 1. An automatically captured payment is ONE ledger transaction of type
--    'payment', straight from the wallet to the merchant, instead of an
--    authorization into a hold and its capture out of it: half the rows,
--    half the WAL. Manual capture keeps the hold.
-- 2. Guess limits become a GCRA token bucket per (merchant, bucket,
--    subject): tat is the "theoretical arrival time" of the bucket. Each
--    guess pushes it by the limit's interval (window / max); a guess is
--    refused while tat lies more than window - interval in the future. It
--    refills continuously, so nobody is reset (or locked out) at the turn
--    of a minute. Rate-limit state is ephemeral: the old fixed-window rows
--    are dropped.

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_type_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_type_check CHECK (type IN (
    'topup', 'sku_topup', 'payment', 'payment_authorization', 'payment_capture', 'payment_release',
    'payment_expiry', 'promo_grant', 'promo_release', 'promo_expiry', 'promo_clawback'));

DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    merchant_id text        NOT NULL REFERENCES merchants (id),
    bucket      text        NOT NULL CHECK (char_length(bucket) BETWEEN 1 AND 64),
    subject     text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 400),
    tat         timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, bucket, subject)
);

-- 3. Write less per payment (each index is written by every insert, and by
--    every update that cannot stay HOT):
--    - ledger_transactions' UNIQUE (merchant_id, id) backs no foreign key;
--      the one query that filtered a wallet's transactions by merchant
--      (top-up stats for the badge) gets a partial index written by
--      top-ups only, never by payments;
--    - ledger_entries_wallet_idx serves no query of the service;
--    - the purge sweepers' b-tree indexes on insertion-ordered timestamps
--      become BRIN indexes, a few pages that a new row rarely touches;
--    - wallets and payments leave room on each page, so their balance and
--      status updates stay HOT (no index entries written).
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_merchant_id_id_key;
CREATE INDEX ledger_transactions_wallet_topups_idx ON ledger_transactions (wallet_id) INCLUDE (amount_minor)
    WHERE type IN ('topup', 'sku_topup');
DROP INDEX ledger_entries_wallet_idx;
DROP INDEX qr_tokens_created_idx;
CREATE INDEX qr_tokens_created_idx ON qr_tokens USING brin (created_at);
DROP INDEX otp_challenges_created_idx;
CREATE INDEX otp_challenges_created_idx ON otp_challenges USING brin (created_at);
DROP INDEX idempotency_keys_expires_at_idx;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys USING brin (expires_at);
ALTER TABLE wallets SET (fillfactor = 80);
ALTER TABLE payments SET (fillfactor = 90);

-- +goose StatementBegin
-- rate_limit_gate serializes the guesses of one subject (a terminal) and
-- then says how long the caller must wait, in seconds (<= 0: go ahead).
-- The lock is transaction-scoped: a second guess of the same terminal waits
-- until the first one's transaction, with its miss counted, commits. Each
-- statement of a VOLATILE PL/pgSQL function reads a fresh snapshot, so the
-- read after the lock sees the counts the lock holder committed: check and
-- count are one atomic step per terminal, however many guesses arrive at
-- once. The wider buckets (key, merchant) are read, not locked.
CREATE FUNCTION rate_limit_gate(
    p_merchant_id text, p_lock_subject text, p_buckets text[], p_subjects text[],
    p_window_seconds float8[], p_interval_seconds float8[], p_now timestamptz
) RETURNS float8
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    wait float8;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('rate_limit:' || p_merchant_id || ':' || p_lock_subject, 0));
    SELECT max(extract(epoch FROM r.tat - p_now) - (l.window_seconds - l.interval_seconds))
    INTO wait
    FROM unnest(p_buckets, p_subjects, p_window_seconds, p_interval_seconds) AS l(bucket, subject, window_seconds, interval_seconds)
    JOIN rate_limits r ON r.merchant_id = p_merchant_id AND r.bucket = l.bucket AND r.subject = l.subject;
    RETURN coalesce(wait, -1);
END;
$$;
-- +goose StatementEnd

-- 4. An Idempotency-Key belongs to the calling credential (the API key, or
--    the terminal of a terminal token), not to the whole integration, so
--    another credential's key never replays its response (and its secrets)
--    to you. Results stored before this migration keep their integration
--    scope and are never replayed again: they expire within the retention.
ALTER TABLE idempotency_keys RENAME COLUMN integration_id TO scope;

-- +goose StatementBegin
-- idempotency_claim takes the transaction-scoped lock of one key (false:
-- a request holding the same key still runs) and, holding it, reads the
-- key's stored result: one round trip instead of two. The read is a later
-- statement of a VOLATILE function, so its snapshot is taken after the
-- lock and sees the result its previous holder committed. status_code 0
-- means nothing is stored.
CREATE FUNCTION idempotency_claim(p_scope text, p_key text,
    OUT locked boolean, OUT fingerprint bytea, OUT status_code integer, OUT response_body bytea)
LANGUAGE plpgsql VOLATILE AS $$
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
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION idempotency_claim(text, text);
ALTER TABLE idempotency_keys RENAME COLUMN scope TO integration_id;
ALTER TABLE payments RESET (fillfactor);
ALTER TABLE wallets RESET (fillfactor);
DROP INDEX idempotency_keys_expires_at_idx;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
DROP INDEX otp_challenges_created_idx;
CREATE INDEX otp_challenges_created_idx ON otp_challenges (created_at);
DROP INDEX qr_tokens_created_idx;
CREATE INDEX qr_tokens_created_idx ON qr_tokens (created_at);
CREATE INDEX ledger_entries_wallet_idx ON ledger_entries (wallet_id) WHERE wallet_id IS NOT NULL;
DROP INDEX ledger_transactions_wallet_topups_idx;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_merchant_id_id_key UNIQUE (merchant_id, id);
DROP FUNCTION rate_limit_gate(text, text, text[], text[], float8[], float8[], timestamptz);
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    merchant_id  text        NOT NULL REFERENCES merchants (id),
    bucket       text        NOT NULL CHECK (char_length(bucket) BETWEEN 1 AND 64),
    subject      text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (merchant_id, bucket, subject)
);
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_type_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_type_check CHECK (type IN (
    'topup', 'sku_topup', 'payment_authorization', 'payment_capture', 'payment_release',
    'payment_expiry', 'promo_grant', 'promo_release', 'promo_expiry', 'promo_clawback'));
