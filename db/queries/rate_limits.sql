-- name: RateLimitGet :one
-- The subject's hits in the current window (0 when its row belongs to an
-- earlier window) and the seconds until the window ends.
SELECT (CASE WHEN window_start = to_timestamp(floor(extract(epoch FROM now()) / sqlc.arg(window_seconds)::integer) * sqlc.arg(window_seconds)::integer)
             THEN hits ELSE 0 END)::integer AS hits,
       (sqlc.arg(window_seconds)::integer - floor(extract(epoch FROM now()))::bigint % sqlc.arg(window_seconds)::integer)::integer AS retry_after_seconds
FROM rate_limits
WHERE merchant_id = @merchant_id AND bucket = @bucket AND subject = @subject;

-- name: RateLimitHit :exec
-- Counts one hit in the current window, starting a new window when the
-- stored one is over.
INSERT INTO rate_limits (merchant_id, bucket, subject, window_start, hits)
VALUES (@merchant_id, @bucket, @subject,
        to_timestamp(floor(extract(epoch FROM now()) / sqlc.arg(window_seconds)::integer) * sqlc.arg(window_seconds)::integer), 1)
ON CONFLICT (merchant_id, bucket, subject) DO UPDATE
SET hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
    window_start = excluded.window_start;
