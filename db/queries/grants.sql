-- name: GrantInsert :one
-- Inserts a grant and its issuing history entry (grant_insert, 00018;
-- transaction_id is the promo_grant transaction booked right after, in
-- the same transaction).
SELECT * FROM grant_insert(@id::text, @merchant_id::text, @integration_id::text, @wallet_id::text,
    @customer_id::text, @source::text, sqlc.narg(source_ref)::text, @currency::text, @amount_minor::bigint,
    @state::text, @expires_at::timestamptz, sqlc.narg(transaction_id)::text);

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
-- entry of each (a grant in another state is left alone; grant_transition,
-- 00018). The remaining amount is kept (@keep_remaining, a release) or
-- becomes 0 (the grant died: expired, clawed back).
SELECT * FROM grant_transition(@merchant_id::text, @ids::text[], @from_states::text[], @to_state::text,
    @keep_remaining::boolean, @reason::text, sqlc.narg(transaction_id)::text, sqlc.narg(detail)::text, sqlc.narg(note)::text);

-- name: GrantSpend :many
-- Takes promo from available grants (a payment's allocation): remaining
-- falls by the amount, and a grant left with nothing becomes consumed
-- (grant_spend, 00018).
SELECT * FROM grant_spend(@merchant_id::text, @wallet_id::text, @ids::text[], @amounts::bigint[], sqlc.narg(transaction_id)::text);

-- name: GrantRestore :many
-- Gives promo back to grants (a closed or refunded payment's allocation;
-- @reason goes into the history: payment_closed or payment_refunded): remaining
-- grows by the amount and a consumed grant becomes available again. Only
-- grants still available or consumed and not yet expired take it back; the
-- caller expires the rest (grant_restore, 00018).
SELECT * FROM grant_restore(@merchant_id::text, @wallet_id::text, @ids::text[], @amounts::bigint[],
    @now::timestamptz, @reason::text, sqlc.narg(transaction_id)::text);

-- name: GrantLapse :many
-- Records promo a payment gave back that its grant cannot take back (the
-- grant expired or was clawed back meanwhile), for the caller to book to
-- promo_expired or promo_clawback in the same @transaction_id. A consumed
-- grant past its expiry becomes expired (history reason "expired"); a grant
-- already expired or clawed back keeps its state and its history records
-- the lapse (@reason: payment_closed or payment_refunded). Returns each
-- grant's state before and after (grant_lapse, 00018).
SELECT l.lapsed_id::text AS id, l.lapsed_from::text AS from_state, l.lapsed_to::text AS state, l.lapsed_minor::bigint AS amount_minor
FROM grant_lapse(@merchant_id::text, @wallet_id::text, @ids::text[], @amounts::bigint[], @reason::text, sqlc.narg(transaction_id)::text) AS l;

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
