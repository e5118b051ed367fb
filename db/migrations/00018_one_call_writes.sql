-- +goose Up
-- The writes that were one statement of data-modifying CTEs become one
-- call of a function (docs/operations.md, "Past one database"). On one
-- PostgreSQL nothing changes: one round trip, one snapshot per statement
-- inside. On Citus a chain of CTEs that inserts what another CTE returned is
-- planned in pieces whose intermediate results are sent to every worker,
-- so every posting needed every worker up; a function runs on the
-- coordinator and sends each of its statements to the merchant's shard
-- alone.

-- +goose StatementBegin
-- ledger_post is the one call that moves money (LedgerPost): it applies
-- the wallet's balance deltas and the change of the actual money its
-- payments hold (the CHECKs refuse a negative balance, and actual money
-- that with the holds would pass the ceiling), books the transaction with
-- the balance it left, and inserts its entries, whose balance the ledger's
-- triggers check at the end of that INSERT. No row: no such wallet.
CREATE FUNCTION ledger_post(p_merchant_id text, p_wallet_id text, p_currency text,
    p_actual_delta bigint, p_promo_available_delta bigint, p_promo_locked_delta bigint, p_held_actual_delta bigint,
    p_id text, p_integration_id text, p_txn_type text, p_amount_minor bigint, p_promo_delta bigint,
    p_payment_id text, p_grant_id text, p_settlement_reference text, p_provider text, p_sku_id text,
    p_pos_reference text, p_terminal_id text, p_location_id text, p_operator_id text,
    p_accounts text[], p_amounts bigint[])
RETURNS SETOF ledger_transactions LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    w wallets;
    t ledger_transactions;
BEGIN
    UPDATE wallets
    SET actual_minor          = actual_minor + p_actual_delta,
        promo_available_minor = promo_available_minor + p_promo_available_delta,
        promo_locked_minor    = promo_locked_minor + p_promo_locked_delta,
        held_actual_minor     = held_actual_minor + p_held_actual_delta,
        next_promo_expiry_at  = (SELECT min(g.expires_at) FROM grants g
                                 WHERE g.merchant_id = p_merchant_id AND g.wallet_id = p_wallet_id
                                   AND g.state IN ('locked', 'available')),
        updated_at            = now()
    WHERE merchant_id = p_merchant_id AND id = p_wallet_id AND currency = p_currency
    RETURNING * INTO w;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO ledger_transactions (
        id, merchant_id, integration_id, type, wallet_id, customer_id, currency,
        amount_minor, actual_delta_minor, promo_delta_minor,
        actual_after_minor, promo_available_after_minor, promo_locked_after_minor, next_promo_expiry_after,
        payment_id, grant_id, settlement_reference, provider, sku_id, pos_reference,
        terminal_id, location_id, operator_id)
    VALUES (p_id, w.merchant_id, p_integration_id, p_txn_type, w.id, w.customer_id, w.currency,
        p_amount_minor, p_actual_delta, p_promo_delta,
        w.actual_minor, w.promo_available_minor, w.promo_locked_minor, w.next_promo_expiry_at,
        p_payment_id, p_grant_id, p_settlement_reference, p_provider, p_sku_id, p_pos_reference,
        p_terminal_id, p_location_id, p_operator_id)
    RETURNING * INTO t;
    INSERT INTO ledger_entries (transaction_id, merchant_id, account, currency, amount_minor)
    SELECT t.id, t.merchant_id, e.account, t.currency, e.amount_minor
    FROM unnest(p_accounts, p_amounts) AS e(account, amount_minor);
    RETURN NEXT t;
END;
$$;
-- +goose StatementEnd


-- +goose StatementBegin
-- grant_insert issues a grant with its "issued" history entry
-- (p_transaction_id: the promo_grant transaction booked right after).
CREATE FUNCTION grant_insert(p_id text, p_merchant_id text, p_integration_id text, p_wallet_id text,
    p_customer_id text, p_source text, p_source_ref text, p_currency text, p_amount_minor bigint,
    p_state text, p_expires_at timestamptz, p_transaction_id text)
RETURNS SETOF grants LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    g grants;
BEGIN
    INSERT INTO grants (id, merchant_id, integration_id, wallet_id, customer_id, source, source_ref, currency,
                        original_minor, remaining_minor, state, expires_at)
    VALUES (p_id, p_merchant_id, p_integration_id, p_wallet_id, p_customer_id, p_source, p_source_ref, p_currency,
            p_amount_minor, p_amount_minor, p_state, p_expires_at)
    RETURNING * INTO g;
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id, at)
    VALUES (g.merchant_id, g.id, NULL, g.state, 'issued', g.original_minor, p_transaction_id, g.created_at);
    RETURN NEXT g;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- grant_transition moves the grants among p_ids that are in one of
-- p_from_states to p_to_state, each with its history entry; the remaining
-- amount is kept (a release) or becomes 0 (the grant died).
CREATE FUNCTION grant_transition(p_merchant_id text, p_ids text[], p_from_states text[], p_to_state text,
    p_keep_remaining boolean, p_reason text, p_transaction_id text, p_detail text, p_note text)
RETURNS SETOF grants LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    g grants;
    from_state text;
    moved bigint;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT o.state, o.remaining_minor INTO from_state, moved FROM grants o
        WHERE o.merchant_id = p_merchant_id AND o.id = p_ids[i] AND o.state = ANY (p_from_states)
        FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        UPDATE grants o
        SET state = p_to_state, remaining_minor = CASE WHEN p_keep_remaining THEN o.remaining_minor ELSE 0 END,
            updated_at = now()
        WHERE o.merchant_id = p_merchant_id AND o.id = p_ids[i]
        RETURNING * INTO g;
        INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id, detail, note)
        VALUES (p_merchant_id, g.id, from_state, g.state, p_reason, moved, p_transaction_id, p_detail, p_note);
        RETURN NEXT g;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- grant_spend takes a payment's allocation from available grants: the
-- remaining amount falls, and a grant left with nothing becomes consumed
-- (with its history entry). A grant not available is left alone.
CREATE FUNCTION grant_spend(p_merchant_id text, p_wallet_id text, p_ids text[], p_amounts bigint[], p_transaction_id text)
RETURNS SETOF grants LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    g grants;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        UPDATE grants o
        SET remaining_minor = o.remaining_minor - p_amounts[i],
            state = CASE WHEN o.remaining_minor = p_amounts[i] THEN 'consumed' ELSE o.state END,
            updated_at = now()
        WHERE o.merchant_id = p_merchant_id AND o.wallet_id = p_wallet_id AND o.id = p_ids[i] AND o.state = 'available'
        RETURNING * INTO g;
        CONTINUE WHEN NOT FOUND;
        IF g.state = 'consumed' THEN
            INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
            VALUES (p_merchant_id, g.id, 'available', 'consumed', 'payment', p_amounts[i], p_transaction_id);
        END IF;
        RETURN NEXT g;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- grant_restore gives promo back to grants still available or consumed
-- and not expired at p_now: the remaining amount grows and a consumed
-- grant becomes available again (history reason p_reason). The caller
-- lapses the rest (grant_lapse).
CREATE FUNCTION grant_restore(p_merchant_id text, p_wallet_id text, p_ids text[], p_amounts bigint[],
    p_now timestamptz, p_reason text, p_transaction_id text)
RETURNS SETOF grants LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    g grants;
    from_state text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT o.state INTO from_state FROM grants o
        WHERE o.merchant_id = p_merchant_id AND o.wallet_id = p_wallet_id AND o.id = p_ids[i]
          AND o.state IN ('available', 'consumed') AND o.expires_at > p_now
        FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        UPDATE grants o
        SET remaining_minor = o.remaining_minor + p_amounts[i], state = 'available', updated_at = now()
        WHERE o.merchant_id = p_merchant_id AND o.id = p_ids[i]
        RETURNING * INTO g;
        IF from_state = 'consumed' THEN
            INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
            VALUES (p_merchant_id, g.id, from_state, 'available', p_reason, p_amounts[i], p_transaction_id);
        END IF;
        RETURN NEXT g;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- grant_lapse records promo given back that its grant cannot take back (it
-- expired or was clawed back meanwhile): a consumed grant past its expiry
-- becomes expired (history reason "expired"); one already expired or
-- clawed back keeps its state, and its history records the lapse
-- (p_reason). Returns each grant's state before and after.
CREATE FUNCTION grant_lapse(p_merchant_id text, p_wallet_id text, p_ids text[], p_amounts bigint[],
    p_reason text, p_transaction_id text)
RETURNS TABLE (lapsed_id text, lapsed_from text, lapsed_to text, lapsed_minor bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT o.state INTO lapsed_from FROM grants o
        WHERE o.merchant_id = p_merchant_id AND o.wallet_id = p_wallet_id AND o.id = p_ids[i]
        FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        lapsed_id := p_ids[i];
        lapsed_minor := p_amounts[i];
        lapsed_to := CASE WHEN lapsed_from = 'clawed_back' THEN 'clawed_back' ELSE 'expired' END;
        IF lapsed_from <> lapsed_to THEN
            UPDATE grants o SET state = lapsed_to, updated_at = now()
            WHERE o.merchant_id = p_merchant_id AND o.id = lapsed_id;
        END IF;
        INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
        VALUES (p_merchant_id, lapsed_id, lapsed_from, lapsed_to,
                CASE WHEN lapsed_from = lapsed_to THEN p_reason ELSE 'expired' END, lapsed_minor, p_transaction_id);
        RETURN NEXT;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- qr_token_mint mints a token for a verified wallet of the merchant: it
-- retires the wallet's earlier unused tokens (minting invalidates them) and
-- any expired token still holding the new short code, then inserts the new
-- one. No row: the wallet is unknown to the merchant or not verified.
CREATE FUNCTION qr_token_mint(p_merchant_id text, p_wallet_id text, p_payload_hash bytea, p_short_code_hash bytea,
    p_qr_ttl_seconds integer, p_short_code_ttl_seconds integer, p_now timestamptz)
RETURNS TABLE (minted_qr_expires_at timestamptz, minted_short_code_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM FROM wallets w WHERE w.merchant_id = p_merchant_id AND w.id = p_wallet_id AND w.status = 'verified';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE qr_tokens t SET retired_at = p_now
    WHERE t.merchant_id = p_merchant_id AND t.retired_at IS NULL
      AND (t.wallet_id = p_wallet_id OR (t.short_code_hash = p_short_code_hash AND t.short_code_expires_at <= p_now));
    INSERT INTO qr_tokens (merchant_id, wallet_id, payload_hash, short_code_hash, qr_expires_at, short_code_expires_at)
    VALUES (p_merchant_id, p_wallet_id, p_payload_hash, p_short_code_hash,
            p_now + make_interval(secs => p_qr_ttl_seconds), p_now + make_interval(secs => p_short_code_ttl_seconds))
    RETURNING qr_expires_at, short_code_expires_at INTO minted_qr_expires_at, minted_short_code_expires_at;
    RETURN NEXT;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- payment_insert inserts a payment and its grant allocations, in spending
-- order (position from 0).
CREATE FUNCTION payment_insert(p_id text, p_merchant_id text, p_integration_id text, p_wallet_id text,
    p_customer_id text, p_currency text, p_amount_minor bigint,
    p_promo_applied_minor bigint, p_actual_applied_minor bigint, p_promo_captured_minor bigint, p_actual_captured_minor bigint,
    p_status text, p_capture_mode text, p_now timestamptz, p_authorization_ttl_seconds integer,
    p_actual_after_minor bigint, p_promo_available_after_minor bigint, p_promo_locked_after_minor bigint,
    p_next_promo_expiry_after timestamptz, p_terminal_id text, p_location_id text, p_operator_id text,
    p_checkout_session_id text, p_reference text, p_grant_ids text[], p_grant_amounts bigint[])
RETURNS SETOF payments LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p payments;
BEGIN
    INSERT INTO payments (
        id, merchant_id, integration_id, wallet_id, customer_id, currency, amount_minor,
        promo_applied_minor, actual_applied_minor, promo_captured_minor, actual_captured_minor,
        status, capture_mode, authorization_expires_at,
        actual_after_minor, promo_available_after_minor, promo_locked_after_minor, next_promo_expiry_after,
        terminal_id, location_id, operator_id, checkout_session_id, reference)
    VALUES (
        p_id, p_merchant_id, p_integration_id, p_wallet_id, p_customer_id, p_currency, p_amount_minor,
        p_promo_applied_minor, p_actual_applied_minor, p_promo_captured_minor, p_actual_captured_minor,
        p_status, p_capture_mode, p_now + make_interval(secs => p_authorization_ttl_seconds),
        p_actual_after_minor, p_promo_available_after_minor, p_promo_locked_after_minor, p_next_promo_expiry_after,
        p_terminal_id, p_location_id, p_operator_id, p_checkout_session_id, p_reference)
    RETURNING * INTO p;
    INSERT INTO payment_allocations (payment_id, merchant_id, position, grant_id, amount_minor)
    SELECT p.id, p.merchant_id, (a.n - 1)::integer, a.grant_id, a.amount_minor
    FROM unnest(p_grant_ids, p_grant_amounts) WITH ORDINALITY AS a(grant_id, amount_minor, n);
    RETURN NEXT p;
END;
$$;
-- +goose StatementEnd

-- A short code's latest token is found by time (an identity orders rows
-- per node only on Citus): the index follows the order.
DROP INDEX qr_tokens_short_code_idx;
CREATE INDEX qr_tokens_short_code_idx ON qr_tokens (merchant_id, short_code_hash, created_at DESC, id DESC);
-- +goose Down
DROP INDEX qr_tokens_short_code_idx;
CREATE INDEX qr_tokens_short_code_idx ON qr_tokens (merchant_id, short_code_hash, id DESC);
DROP FUNCTION payment_insert(text, text, text, text, text, text, bigint, bigint, bigint, bigint, bigint, text, text, timestamptz, integer, bigint, bigint, bigint, timestamptz, text, text, text, text, text, text[], bigint[]);
DROP FUNCTION ledger_post(text, text, text, bigint, bigint, bigint, bigint, text, text, text, bigint, bigint,
    text, text, text, text, text, text, text, text, text, text[], bigint[]);
DROP FUNCTION qr_token_mint(text, text, bytea, bytea, integer, integer, timestamptz);
DROP FUNCTION grant_lapse(text, text, text[], bigint[], text, text);
DROP FUNCTION grant_restore(text, text, text[], bigint[], timestamptz, text, text);
DROP FUNCTION grant_spend(text, text, text[], bigint[], text);
DROP FUNCTION grant_transition(text, text[], text[], text, boolean, text, text, text, text);
DROP FUNCTION grant_insert(text, text, text, text, text, text, text, text, bigint, text, timestamptz, text);
