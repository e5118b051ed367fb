-- +goose Up
-- Payments, the credentials that authorize them (wallet QR codes and SMS
-- one-time codes), checkout sessions, and the per-terminal counters that
-- rate-limit credential guessing. Every row carries its merchant; composite
-- foreign keys on (merchant_id, id) keep rows of one merchant from naming
-- another's. Money itself lives in the ledger (00003): a payment row
-- records what its ledger transactions did, never a balance of its own.

CREATE TABLE checkout_sessions (
    id             text        PRIMARY KEY CHECK (id ~ '^cs_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id    text        NOT NULL,
    integration_id text        NOT NULL,
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor   bigint      CHECK (amount_minor BETWEEN 1 AND 1000000000000),
    reference      text        CHECK (char_length(reference) BETWEEN 1 AND 128),
    -- The identified customer (identify) or the payer, once known.
    customer_id    text,
    wallet_id      text,
    -- open or completed; an open session past expires_at reads as expired.
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
    payment_id     text,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id),
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    CHECK ((status = 'completed') = (payment_id IS NOT NULL)),
    CHECK ((customer_id IS NULL) = (wallet_id IS NULL))
);

CREATE TABLE payments (
    id                       text        PRIMARY KEY CHECK (id ~ '^pay_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id              text        NOT NULL,
    integration_id           text        NOT NULL,
    wallet_id                text        NOT NULL,
    customer_id              text        NOT NULL,
    currency                 text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor             bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 1000000000000),
    -- What the authorization took, by money class; below amount_minor only
    -- for a partial authorization.
    promo_applied_minor      bigint      NOT NULL CHECK (promo_applied_minor >= 0),
    actual_applied_minor     bigint      NOT NULL CHECK (actual_applied_minor >= 0),
    authorized_minor         bigint      NOT NULL GENERATED ALWAYS AS (promo_applied_minor + actual_applied_minor) STORED,
    -- What capture took, by money class (the rest went back to the wallet).
    promo_captured_minor     bigint      NOT NULL DEFAULT 0 CHECK (promo_captured_minor BETWEEN 0 AND promo_applied_minor),
    actual_captured_minor    bigint      NOT NULL DEFAULT 0 CHECK (actual_captured_minor BETWEEN 0 AND actual_applied_minor),
    status                   text        NOT NULL CHECK (status IN ('authorized', 'captured', 'closed', 'expired')),
    capture_mode             text        NOT NULL CHECK (capture_mode IN ('automatic', 'manual')),
    authorization_expires_at timestamptz NOT NULL,
    -- The wallet's balance after the payment's latest ledger transaction.
    actual_after_minor          bigint      NOT NULL,
    promo_available_after_minor bigint      NOT NULL,
    promo_locked_after_minor    bigint      NOT NULL,
    next_promo_expiry_after     timestamptz,
    terminal_id              text        CHECK (char_length(terminal_id) <= 128),
    location_id              text        CHECK (char_length(location_id) <= 128),
    operator_id              text        CHECK (char_length(operator_id) <= 128),
    checkout_session_id      text,
    reference                text        CHECK (char_length(reference) BETWEEN 1 AND 128),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, id),
    FOREIGN KEY (merchant_id, integration_id) REFERENCES integrations (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    FOREIGN KEY (merchant_id, checkout_session_id) REFERENCES checkout_sessions (merchant_id, id),
    CHECK (promo_applied_minor + actual_applied_minor BETWEEN 1 AND amount_minor),
    CHECK (status = 'captured' OR promo_captured_minor + actual_captured_minor = 0),
    CHECK (status <> 'captured' OR promo_captured_minor + actual_captured_minor > 0)
);

-- The expiry sweeper: authorizations past their expiry, oldest first.
CREATE INDEX payments_authorized_expiry_idx ON payments (authorization_expires_at) WHERE status = 'authorized';

ALTER TABLE checkout_sessions
    ADD FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id);

-- Promo a payment took from each grant, in spending order (position).
-- Released promo goes back to the same grants, latest position first.
CREATE TABLE payment_allocations (
    payment_id   text    NOT NULL,
    merchant_id  text    NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    grant_id     text    NOT NULL,
    amount_minor bigint  NOT NULL CHECK (amount_minor >= 1),
    PRIMARY KEY (payment_id, position),
    UNIQUE (payment_id, grant_id),
    FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id),
    FOREIGN KEY (merchant_id, grant_id) REFERENCES grants (merchant_id, id)
);

-- Wallet QR credentials minted by POST /qr/mint: one row renders as a QR
-- payload (valid 60 s) and an 8-digit short code (valid 5 min); using
-- either uses both. Only SHA-256 hashes are stored: the payload hash alone
-- (256 random bits), the short code's with its merchant.
CREATE TABLE qr_tokens (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id           text        NOT NULL,
    wallet_id             text        NOT NULL,
    payload_hash          bytea       NOT NULL UNIQUE CHECK (octet_length(payload_hash) = 32),
    short_code_hash       bytea       NOT NULL CHECK (octet_length(short_code_hash) = 32),
    qr_expires_at         timestamptz NOT NULL,
    short_code_expires_at timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    -- Set when a payment used it (payment_id says which).
    used_at               timestamptz,
    payment_id            text,
    -- Set when it can no longer be used: used, replaced by a newer mint,
    -- or expired and its short code given to a new token.
    retired_at            timestamptz,
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    CHECK ((used_at IS NULL) = (payment_id IS NULL)),
    CHECK (used_at IS NULL OR retired_at IS NOT NULL)
);

-- A short code names one live token of the merchant at a time.
CREATE UNIQUE INDEX qr_tokens_live_short_code_key ON qr_tokens (merchant_id, short_code_hash) WHERE retired_at IS NULL;
CREATE INDEX qr_tokens_short_code_idx ON qr_tokens (merchant_id, short_code_hash, id DESC);
CREATE INDEX qr_tokens_live_wallet_idx ON qr_tokens (wallet_id) WHERE retired_at IS NULL;
CREATE INDEX qr_tokens_created_idx ON qr_tokens (created_at);

-- SMS one-time-code challenges started by POST /payments with an otp
-- credential. The 6-digit code is stored as SHA-256 of the challenge id and
-- the code; attempts counts wrong codes (5 kill the challenge).
CREATE TABLE otp_challenges (
    id          text        PRIMARY KEY CHECK (id ~ '^otp_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id text        NOT NULL,
    customer_id text        NOT NULL,
    wallet_id   text        NOT NULL,
    code_hash   bytea       NOT NULL CHECK (octet_length(code_hash) = 32),
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    payment_id  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    CHECK ((used_at IS NULL) = (payment_id IS NULL))
);

-- The latest challenge of a customer (one SMS per 60 seconds).
CREATE INDEX otp_challenges_customer_idx ON otp_challenges (merchant_id, customer_id, created_at DESC);
CREATE INDEX otp_challenges_created_idx ON otp_challenges (created_at);

-- Fixed-window counters shared by every replica: one row per merchant,
-- bucket (what is counted) and subject (the terminal), reset when a new
-- window starts.
CREATE TABLE rate_limits (
    merchant_id  text        NOT NULL REFERENCES merchants (id),
    bucket       text        NOT NULL CHECK (char_length(bucket) BETWEEN 1 AND 64),
    subject      text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (merchant_id, bucket, subject)
);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE otp_challenges;
DROP TABLE qr_tokens;
DROP TABLE payment_allocations;
ALTER TABLE checkout_sessions DROP COLUMN payment_id;
DROP TABLE payments;
DROP TABLE checkout_sessions;
