-- name: RateLimitGate :one
-- Serializes the guesses of one subject and says how long to wait
-- (rate_limit_gate, 00006): <= 0 means go ahead.
SELECT rate_limit_gate(sqlc.arg(merchant_id)::text, sqlc.arg(lock_subject)::text,
                       sqlc.arg(buckets)::text[], sqlc.arg(subjects)::text[],
                       sqlc.arg(window_seconds)::double precision[], sqlc.arg(interval_seconds)::double precision[],
                       sqlc.arg(now)::timestamptz)::double precision AS wait_seconds;

-- name: RateLimitHit :exec
-- Counts one hit in every bucket given: its tat moves one interval past
-- the later of itself and now (GCRA).
INSERT INTO rate_limits (merchant_id, bucket, subject, tat)
SELECT sqlc.arg(merchant_id)::text, (sqlc.arg(buckets)::text[])[i], (sqlc.arg(subjects)::text[])[i],
       sqlc.arg(now)::timestamptz + make_interval(secs => (sqlc.arg(interval_seconds)::double precision[])[i])
FROM generate_subscripts(sqlc.arg(buckets)::text[], 1) AS i
ON CONFLICT (merchant_id, bucket, subject) DO UPDATE
-- In UTC wall time: timestamptz + interval is only STABLE, and Citus takes
-- only IMMUTABLE functions in DO UPDATE.
SET tat = timezone('UTC', timezone('UTC', greatest(rate_limits.tat, sqlc.arg(now)::timestamptz)) + (excluded.tat - sqlc.arg(now)::timestamptz));
