-- +goose Up
-- One clock (docs/architecture.md, "Time"): SQL that decides by time gets
-- the service clock's time as a parameter instead of calling now(), so that
-- a test that advances the clock sees consistent state. idempotency_claim
-- (00006) read a stored result only while expires_at > now(); it now takes
-- the time to compare with. rate_limit_gate already takes p_now; the
-- triggers decide nothing by time.
--
-- The two-argument function stays: replicas of the previous release keep
-- calling it while a rolling deploy replaces them. A later migration drops
-- it once no release calls it.

-- +goose StatementBegin
-- idempotency_claim takes the transaction-scoped lock of one key (false:
-- a request holding the same key still runs) and, holding it, reads the
-- key's stored result if it has not expired at p_now: one round trip
-- instead of two. The read is a later statement of a VOLATILE function, so
-- its snapshot is taken after the lock and sees the result its previous
-- holder committed. status_code 0 means nothing is stored.
CREATE FUNCTION idempotency_claim(p_scope text, p_key text, p_now timestamptz,
    OUT locked boolean, OUT fingerprint bytea, OUT status_code integer, OUT response_body bytea)
LANGUAGE plpgsql VOLATILE AS $$
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
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION idempotency_claim(text, text, timestamptz);
