-- name: QrTokenMint :one
-- Mints a token for a verified wallet of the merchant, valid for the given
-- seconds (QR payload, short code) from @now (the service clock), in one
-- call (qr_token_mint, 00018): it retires the wallet's earlier unused
-- tokens (minting invalidates them) and any expired token still holding
-- the new short code (so the code can name the new token). No row: the
-- wallet is unknown to the merchant or not verified (the caller reads
-- which).
SELECT m.minted_qr_expires_at::timestamptz AS qr_expires_at, m.minted_short_code_expires_at::timestamptz AS short_code_expires_at
FROM qr_token_mint(@merchant_id::text, @wallet_id::text, @payload_hash::bytea, @short_code_hash::bytea,
    @qr_ttl_seconds::integer, @short_code_ttl_seconds::integer, sqlc.arg(now)::timestamptz) AS m;

-- name: QrTokenInsert :one
-- Issues a token without retiring any other: for test fixtures that need
-- several live tokens of one wallet (payments/paymenttest). The service
-- mints with QrTokenMint.
INSERT INTO qr_tokens (merchant_id, wallet_id, payload_hash, short_code_hash, qr_expires_at, short_code_expires_at)
VALUES (@merchant_id, @wallet_id, @payload_hash, @short_code_hash,
        sqlc.arg(now)::timestamptz + make_interval(secs => @qr_ttl_seconds::integer),
        sqlc.arg(now)::timestamptz + make_interval(secs => @short_code_ttl_seconds::integer))
RETURNING qr_expires_at, short_code_expires_at;

-- name: QrTokenUseByPayload :one
-- Uses a live QR payload for a payment behind the caller's guess gate, in
-- one call (qr_token_use, 00017): rate_limit_gate (00006) takes the
-- terminal's lock and reads its buckets first, and only a caller it lets
-- through retires the token, so it can never pay twice. wait_seconds > 0:
-- refused by the gate. wallet_id '': unknown, expired, superseded or used
-- (QrTokenFindByPayload says which).
SELECT u.wait_seconds::double precision AS wait_seconds, u.wallet_id::text AS wallet_id
FROM qr_token_use(sqlc.arg(merchant_id)::text, sqlc.arg(lock_subject)::text,
                  sqlc.arg(buckets)::text[], sqlc.arg(subjects)::text[],
                  sqlc.arg(window_seconds)::double precision[], sqlc.arg(interval_seconds)::double precision[],
                  sqlc.arg(now)::timestamptz, sqlc.arg(payment_id)::text, sqlc.arg(payload_hash)::bytea, NULL) AS u;

-- name: QrTokenUseByShortCode :one
-- QrTokenUseByPayload for a short code.
SELECT u.wait_seconds::double precision AS wait_seconds, u.wallet_id::text AS wallet_id
FROM qr_token_use(sqlc.arg(merchant_id)::text, sqlc.arg(lock_subject)::text,
                  sqlc.arg(buckets)::text[], sqlc.arg(subjects)::text[],
                  sqlc.arg(window_seconds)::double precision[], sqlc.arg(interval_seconds)::double precision[],
                  sqlc.arg(now)::timestamptz, sqlc.arg(payment_id)::text, NULL, sqlc.arg(short_code_hash)::bytea) AS u;

-- name: QrTokenFindByPayload :one
-- The token behind a QR payload and its state now: live, used, superseded
-- (retired by a newer mint while it was still valid) or expired.
SELECT wallet_id,
       (CASE WHEN used_at IS NOT NULL THEN 'used'
             WHEN retired_at IS NOT NULL AND retired_at < qr_expires_at THEN 'superseded'
             WHEN retired_at IS NOT NULL OR qr_expires_at <= sqlc.arg(now)::timestamptz THEN 'expired'
             ELSE 'live' END)::text AS state
FROM qr_tokens
WHERE merchant_id = @merchant_id AND payload_hash = @payload_hash;

-- name: QrTokenFindByShortCode :one
-- The latest token that had this short code, and its state now (as
-- QrTokenFindByPayload; a token whose code was handed on after it expired
-- reads expired).
SELECT wallet_id,
       (CASE WHEN used_at IS NOT NULL THEN 'used'
             WHEN retired_at IS NOT NULL AND retired_at < short_code_expires_at THEN 'superseded'
             WHEN retired_at IS NOT NULL OR short_code_expires_at <= sqlc.arg(now)::timestamptz THEN 'expired'
             ELSE 'live' END)::text AS state
FROM qr_tokens
WHERE merchant_id = @merchant_id AND short_code_hash = @short_code_hash
ORDER BY created_at DESC, id DESC -- id alone is an identity, ordered per node only
LIMIT 1;

-- name: QrTokenPurge :execrows
-- Deletes up to batch_size tokens minted before the cutoff (long dead).
DELETE FROM qr_tokens
WHERE id = ANY(ARRAY(SELECT old.id FROM qr_tokens old WHERE old.created_at < @before ORDER BY old.created_at LIMIT @batch_size));
