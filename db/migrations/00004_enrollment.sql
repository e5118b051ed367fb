-- +goose Up
-- Enrollment: the phone-ownership proofs behind pending_proof wallets, and
-- the SMS they cause. See docs/pending-proof.md.

-- One phone-ownership proof per pending_proof wallet. Resends renew its
-- code in place, so the verification id a client holds stays valid. The
-- code and the link token are never stored: only SHA-256(salt, purpose,
-- secret) with a fresh random salt per send, compared in constant time.
CREATE TABLE verifications (
    id              text          PRIMARY KEY CHECK (id ~ '^ver_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id     text          NOT NULL REFERENCES merchants (id),
    customer_id     text          NOT NULL,
    wallet_id       text          NOT NULL,
    phone           text          NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    state           text          NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified')),
    salt            bytea         NOT NULL CHECK (octet_length(salt) = 16),
    code_hash       bytea         NOT NULL CHECK (octet_length(code_hash) = 32),
    link_token_hash bytea         NOT NULL CHECK (octet_length(link_token_hash) = 32),
    -- The current code's end of life (15 minutes after it was sent).
    expires_at      timestamptz   NOT NULL,
    -- Wrong codes against the current code; 5 kill it.
    failed_attempts integer       NOT NULL DEFAULT 0 CHECK (failed_attempts BETWEEN 0 AND 5),
    last_sent_at    timestamptz   NOT NULL,
    -- When each resend happened; those of the last 24 hours count against
    -- the limit of 3 (older ones are pruned at the next resend).
    resent_at       timestamptz[] NOT NULL DEFAULT '{}' CHECK (array_position(resent_at, NULL) IS NULL),
    created_at      timestamptz   NOT NULL DEFAULT now(),
    verified_at     timestamptz,
    UNIQUE (wallet_id),
    FOREIGN KEY (merchant_id, customer_id) REFERENCES customers (merchant_id, id),
    FOREIGN KEY (merchant_id, wallet_id) REFERENCES wallets (merchant_id, id),
    CHECK ((state = 'verified') = (verified_at IS NOT NULL))
);

-- One enrollment per phone and merchant (customers are unique by phone
-- too); verify and resend find it by phone.
CREATE UNIQUE INDEX verifications_phone_key ON verifications (merchant_id, phone);

-- The SMS outbox. A row is written in the same transaction as the state
-- that caused the message (a verification, an OTP challenge), together with
-- the River job that delivers it, so a message exists if and only if its
-- cause committed. The body holds the code in clear only while the message
-- waits: delivery (or a newer message for the same subject) wipes it.
CREATE TABLE sms_outbox (
    id           text        PRIMARY KEY CHECK (id ~ '^msg_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id  text        NOT NULL REFERENCES merchants (id),
    phone        text        NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    kind         text        NOT NULL CHECK (kind IN ('enrollment_verification', 'otp')),
    -- The verification or OTP challenge the message is for: a newer message
    -- for the same subject supersedes a queued one (its code is dead).
    subject_id   text        NOT NULL,
    body         text        CHECK (char_length(body) BETWEEN 1 AND 1600),
    state        text        NOT NULL DEFAULT 'queued'
                             CHECK (state IN ('queued', 'delivered', 'superseded', 'failed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    CHECK ((state = 'queued') = (body IS NOT NULL)),
    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
);

-- Superseding: the queued messages of one subject.
CREATE INDEX sms_outbox_subject_idx ON sms_outbox (subject_id) WHERE state = 'queued';
-- Health: messages still waiting.
CREATE INDEX sms_outbox_waiting_idx ON sms_outbox (created_at) WHERE state IN ('queued', 'failed');

-- What the sandbox delivered, kept in full for GET /sandbox/messages. Only
-- the sandbox environment writes here.
CREATE TABLE sandbox_messages (
    id           text        PRIMARY KEY CHECK (id ~ '^msg_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id  text        NOT NULL REFERENCES merchants (id),
    phone        text        NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    kind         text        NOT NULL CHECK (kind IN ('enrollment_verification', 'otp')),
    body         text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1600),
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now()
);

-- Listing: one merchant's messages to one phone, newest first.
CREATE INDEX sandbox_messages_phone_idx ON sandbox_messages (merchant_id, phone, created_at DESC, id DESC);

-- +goose Down
DROP TABLE sandbox_messages;
DROP TABLE sms_outbox;
DROP TABLE verifications;
