-- name: RateLimitGate :one
-- Serializes the guesses of one subject and says how long to wait
-- (rate_limit_gate, 00006): <= 0 means go ahead.
SELECT rate_limit_gate(sqlc.arg(merchant_id)::text, sqlc.arg(lock_subject)::text,
                       sqlc.arg(buckets)::text[], sqlc.arg(subjects)::text[],
                       sqlc.arg(window_seconds)::double precision[], sqlc.arg(interval_seconds)::double precision[],
                       sqlc.arg(now)::timestamptz)::double precision AS wait_seconds;

-- name: RateLimitHit :exec
-- Counts one hit in every bucket given: its tat moves one interval past
-- the later of itself and now (GCRA; rate_limit_hit, 00017).
SELECT rate_limit_hit(sqlc.arg(merchant_id)::text, sqlc.arg(buckets)::text[], sqlc.arg(subjects)::text[],
                      sqlc.arg(interval_seconds)::double precision[], sqlc.arg(now)::timestamptz);
