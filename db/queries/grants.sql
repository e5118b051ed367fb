-- name: GrantInsert :one
-- Inserts a grant and its issuing history entry (transaction_id is the
-- promo_grant transaction booked right after, in the same transaction).
WITH g AS (
    INSERT INTO grants (id, merchant_id, integration_id, wallet_id, customer_id, source, source_ref, currency,
                        original_minor, remaining_minor, state, expires_at)
    VALUES (@id, @merchant_id, @integration_id, @wallet_id, @customer_id, @source, sqlc.narg(source_ref), @currency,
            @amount_minor, @amount_minor, @state, @expires_at)
    RETURNING *
), ev AS (
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id, at)
    SELECT g.merchant_id, g.id, NULL, g.state, 'issued', g.original_minor, @transaction_id, g.created_at
    FROM g
)
SELECT * FROM g;

-- name: GrantGet :one
SELECT * FROM grants
WHERE merchant_id = @merchant_id AND id = @id;

-- name: GrantListLive :many
-- A wallet's locked and available grants, earliest expiry first, then oldest.
SELECT * FROM grants
WHERE merchant_id = @merchant_id AND wallet_id = @wallet_id AND state IN ('locked', 'available')
ORDER BY expires_at, created_at, id;

-- name: GrantTransition :many
-- Moves grants in one of @from_states to a new state, recording the history
-- entry of each (a grant in another state is left alone). The
-- remaining amount is kept (@keep_remaining, a release) or becomes 0 (the
-- grant died: expired, clawed back).
WITH upd AS (
    UPDATE grants g
    SET state = @to_state, remaining_minor = CASE WHEN @keep_remaining::boolean THEN g.remaining_minor ELSE 0 END, updated_at = now()
    FROM (SELECT o.id, o.state AS from_state, o.remaining_minor AS moved_minor FROM grants o
          WHERE o.merchant_id = @merchant_id AND o.id = ANY(@ids::text[]) AND o.state = ANY(@from_states::text[])
          FOR UPDATE) old
    WHERE g.merchant_id = @merchant_id AND g.id = old.id
    RETURNING g.*, old.from_state, old.moved_minor
), ev AS (
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id, detail, note)
    SELECT upd.merchant_id, upd.id, upd.from_state, upd.state, @reason, upd.moved_minor, @transaction_id,
           sqlc.narg(detail), sqlc.narg(note)
    FROM upd
)
SELECT id, merchant_id, integration_id, wallet_id, customer_id, source, source_ref, currency,
       original_minor, remaining_minor, state, expires_at, created_at, updated_at
FROM upd;

-- name: GrantSpend :many
-- Takes promo from available grants (a payment's allocation): remaining
-- falls by the amount, and a grant left with nothing becomes consumed.
WITH alloc AS (
    SELECT unnest(@ids::text[]) AS id, unnest(@amounts::bigint[]) AS amount
), upd AS (
    UPDATE grants g
    SET remaining_minor = g.remaining_minor - alloc.amount,
        state = CASE WHEN g.remaining_minor = alloc.amount THEN 'consumed' ELSE g.state END,
        updated_at = now()
    FROM alloc
    WHERE g.merchant_id = @merchant_id AND g.wallet_id = @wallet_id AND g.id = alloc.id AND g.state = 'available'
    RETURNING g.*, alloc.amount AS spent_minor
), ev AS (
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
    SELECT upd.merchant_id, upd.id, 'available', 'consumed', 'payment', upd.spent_minor, @transaction_id
    FROM upd WHERE upd.state = 'consumed'
)
SELECT id, merchant_id, integration_id, wallet_id, customer_id, source, source_ref, currency,
       original_minor, remaining_minor, state, expires_at, created_at, updated_at
FROM upd;

-- name: GrantRestore :many
-- Gives promo back to grants (a closed or refunded payment's allocation;
-- @reason goes into the history: payment_closed or payment_refunded): remaining
-- grows by the amount and a consumed grant becomes available again. Only
-- grants still available or consumed and not yet expired take it back; the
-- caller expires the rest.
-- (The locked rows are a subquery of the UPDATE, not a CTE of their own:
-- Citus loses the columns of a CTE that another CTE's UPDATE returns.)
WITH upd AS (
    UPDATE grants g
    SET remaining_minor = g.remaining_minor + old.amount, state = 'available', updated_at = now()
    FROM (SELECT o.id, o.state AS from_state, a.amount
          FROM grants o
          JOIN (SELECT unnest(@ids::text[]) AS id, unnest(@amounts::bigint[]) AS amount) a ON a.id = o.id
          WHERE o.merchant_id = @merchant_id AND o.wallet_id = @wallet_id
            AND o.state IN ('available', 'consumed') AND o.expires_at > @now
          FOR UPDATE OF o) old
    WHERE g.merchant_id = @merchant_id AND g.id = old.id
    RETURNING g.*, old.from_state, old.amount AS restored_minor
), ev AS (
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
    SELECT upd.merchant_id, upd.id, upd.from_state, 'available', @reason::text, upd.restored_minor, @transaction_id
    FROM upd WHERE upd.from_state = 'consumed'
)
SELECT id, merchant_id, integration_id, wallet_id, customer_id, source, source_ref, currency,
       original_minor, remaining_minor, state, expires_at, created_at, updated_at
FROM upd;

-- name: GrantLapse :many
-- Records promo a payment gave back that its grant cannot take back (the
-- grant expired or was clawed back meanwhile), for the caller to book to
-- promo_expired or promo_clawback in the same @transaction_id. A consumed
-- grant past its expiry becomes expired (history reason "expired"); a grant
-- already expired or clawed back keeps its state and its history records
-- the lapse (@reason: payment_closed or payment_refunded). Returns each
-- grant's state before and after.
-- Every locked grant is updated (one whose state stays keeps it), so that the history is inserted from the UPDATE's rows: Citus
-- loses the columns of a plain CTE that an INSERT reads.
WITH upd AS (
    UPDATE grants g
    SET state = old.to_state, updated_at = now()
    FROM (SELECT o.id, o.state AS from_state, a.amount,
                 CASE WHEN o.state = 'clawed_back' THEN 'clawed_back' ELSE 'expired' END AS to_state
          FROM grants o
          JOIN (SELECT unnest(@ids::text[]) AS id, unnest(@amounts::bigint[]) AS amount) a ON a.id = o.id
          WHERE o.merchant_id = @merchant_id AND o.wallet_id = @wallet_id
          FOR UPDATE OF o) old
    WHERE g.merchant_id = @merchant_id AND g.id = old.id
    RETURNING g.id, g.merchant_id, old.from_state, old.to_state, old.amount
), ev AS (
    INSERT INTO grant_events (merchant_id, grant_id, from_state, to_state, reason, amount_minor, transaction_id)
    SELECT upd.merchant_id, upd.id, upd.from_state, upd.to_state,
           CASE WHEN upd.from_state = upd.to_state THEN @reason::text ELSE 'expired' END,
           upd.amount, @transaction_id
    FROM upd
)
SELECT upd.id, upd.from_state::text AS from_state, upd.to_state::text AS state, upd.amount::bigint AS amount_minor FROM upd;

-- name: GrantListByCustomer :many
-- One page of a customer's grants, newest first, keyset on (created_at, id).
SELECT * FROM grants
WHERE merchant_id = @merchant_id AND customer_id = @customer_id
  AND (sqlc.narg(state)::text IS NULL OR state = sqlc.narg(state)::text)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: GrantEventsOf :many
-- In time order: id is an identity, whose values Citus draws from each
-- node's own range, so it orders only rows written on one node.
SELECT * FROM grant_events
WHERE merchant_id = @merchant_id AND grant_id = ANY(@grant_ids::text[])
ORDER BY grant_id, at, id;
