-- +goose Up
-- Refunds (issue 10, docs/refunds.md).
--
-- 1. A captured payment is refunded, wholly or in part, several times up to
--    what was captured. The payment row keeps what its refunds returned per
--    money class (actual_refunded_minor, promo_refunded_minor) and the promo
--    they could not return because its grant had died (promo_forfeited_minor);
--    the CHECKs make the database refuse any refund past the captured
--    amount, whatever the code does. The refund locks the payment row
--    (FOR UPDATE) first, so concurrent refunds queue.
-- 2. Each refund is a row of refunds, booked as one payment_refund ledger
--    transaction (transaction_id). Which grants a refund's promo went back to
--    is in the grants' history (grant_events, reason payment_refunded, the
--    same transaction_id); promo goes back newest allocation first, so the
--    per-class totals on the payment also say which allocations are spent.
-- 3. No key may hold both qr:mint and payments:refund: the wallet app never
--    refunds (docs/authentication.md, consent rule).
-- 4. An operator key that pays (payments:write: the bootstrap key, the back
--    office) gets payments:refund, so that the first key of an integration
--    keeps holding every scope but qr:mint. Other keys get it only when the
--    merchant grants it.

ALTER TABLE payments
    ADD COLUMN actual_refunded_minor bigint NOT NULL DEFAULT 0 CHECK (actual_refunded_minor >= 0),
    ADD COLUMN promo_refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (promo_refunded_minor >= 0),
    ADD COLUMN promo_forfeited_minor bigint NOT NULL DEFAULT 0 CHECK (promo_forfeited_minor >= 0),
    ADD CONSTRAINT payments_refund_within_captured CHECK (
        actual_refunded_minor <= actual_captured_minor
        AND promo_refunded_minor + promo_forfeited_minor <= promo_captured_minor);

CREATE TABLE refunds (
    id                    text        PRIMARY KEY CHECK (id ~ '^rfd_[0-9A-HJKMNP-TV-Z]{26}$'),
    merchant_id           text        NOT NULL,
    payment_id            text        NOT NULL,
    transaction_id        text        NOT NULL UNIQUE REFERENCES ledger_transactions (id),
    amount_minor          bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 1000000000000),
    actual_refunded_minor bigint      NOT NULL CHECK (actual_refunded_minor >= 0),
    promo_refunded_minor  bigint      NOT NULL CHECK (promo_refunded_minor >= 0),
    promo_forfeited_minor bigint      NOT NULL CHECK (promo_forfeited_minor >= 0),
    reason                text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    reference             text        CHECK (char_length(reference) BETWEEN 1 AND 128),
    -- The wallet's balance right after the refund.
    actual_after_minor          bigint      NOT NULL,
    promo_available_after_minor bigint      NOT NULL,
    promo_locked_after_minor    bigint      NOT NULL,
    next_promo_expiry_after     timestamptz,
    created_at            timestamptz NOT NULL,
    FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id),
    CHECK (actual_refunded_minor + promo_refunded_minor + promo_forfeited_minor = amount_minor)
);

CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at, id);

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_type_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_type_check CHECK (type IN (
    'topup', 'sku_topup', 'payment', 'payment_authorization', 'payment_capture', 'payment_release',
    'payment_expiry', 'payment_refund', 'promo_grant', 'promo_release', 'promo_expiry', 'promo_clawback'));

UPDATE api_keys SET scopes = array_append(scopes, 'payments:refund')
WHERE role = 'operator' AND scopes @> ARRAY['payments:write'] AND NOT scopes @> ARRAY['payments:refund'];
ALTER TABLE api_keys ADD CONSTRAINT api_keys_refund_consent_check
    CHECK (NOT scopes @> ARRAY['qr:mint', 'payments:refund']);

-- +goose Down
ALTER TABLE api_keys DROP CONSTRAINT api_keys_refund_consent_check;
UPDATE api_keys SET scopes = array_remove(scopes, 'payments:refund')
WHERE scopes @> ARRAY['payments:refund'] AND cardinality(scopes) > 1;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_type_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_type_check CHECK (type IN (
    'topup', 'sku_topup', 'payment', 'payment_authorization', 'payment_capture', 'payment_release',
    'payment_expiry', 'promo_grant', 'promo_release', 'promo_expiry', 'promo_clawback')) NOT VALID;
DROP TABLE refunds;
ALTER TABLE payments
    DROP CONSTRAINT payments_refund_within_captured,
    DROP COLUMN promo_forfeited_minor,
    DROP COLUMN promo_refunded_minor,
    DROP COLUMN actual_refunded_minor;
