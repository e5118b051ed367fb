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

-- +goose Down
DROP FUNCTION ledger_post(text, text, text, bigint, bigint, bigint, bigint, text, text, text, bigint, bigint,
    text, text, text, text, text, text, text, text, text, text[], bigint[]);
