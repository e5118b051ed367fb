-- name: SMSOutboxInsert :exec
-- created_at is the service clock's time: retention and the health check
-- decide by it.
INSERT INTO sms_outbox (id, merchant_id, phone, kind, subject_id, body, created_at)
VALUES (@id, @merchant_id, @phone, @kind, @subject_id, @body, sqlc.arg(now)::timestamptz);

-- name: SMSOutboxSupersede :execrows
-- Wipes the queued messages of a subject: a newer code replaced theirs.
UPDATE sms_outbox SET state = 'superseded', body = NULL
WHERE merchant_id = @merchant_id AND subject_id = @subject_id AND state = 'queued';

-- name: SMSOutboxGetQueued :one
SELECT * FROM sms_outbox WHERE merchant_id = @merchant_id AND id = @id AND state = 'queued';

-- name: SMSOutboxMarkDelivered :execrows
UPDATE sms_outbox SET state = 'delivered', body = NULL, delivered_at = sqlc.arg(now)::timestamptz
WHERE merchant_id = @merchant_id AND id = @id AND state = 'queued';

-- name: SMSOutboxMarkFailed :execrows
UPDATE sms_outbox SET state = 'failed', body = NULL
WHERE merchant_id = @merchant_id AND id = @id AND state = 'queued';

-- name: SMSOutboxCountStale :one
-- Messages that should have left by now: still queued (or given up) after
-- @older_than, within the last day so one old failure does not mark the
-- service degraded forever.
SELECT count(*) FROM sms_outbox
WHERE state IN ('queued', 'failed')
  AND created_at < sqlc.arg(now)::timestamptz - make_interval(secs => @older_than_seconds::double precision)
  AND created_at > sqlc.arg(now)::timestamptz - interval '24 hours';

-- name: SMSOutboxDeleteOld :execrows
-- Retention: messages that left (or never will) and are older than the
-- retention, in batches.
-- Keyed by (merchant_id, id), not ctid (a ctid is per shard on Citus).
DELETE FROM sms_outbox
WHERE (merchant_id, id) IN (SELECT merchant_id, id FROM sms_outbox
               WHERE state <> 'queued' AND created_at < sqlc.arg(now)::timestamptz - make_interval(secs => @older_than_seconds::double precision)
               LIMIT @batch_size);
