-- name: EnrollmentLockPhone :exec
-- Serializes the enrollments of one phone: a second initiate waits for the
-- first to commit, then finds its pending wallet.
SELECT pg_advisory_xact_lock(hashtextextended('feddi.enroll:' || @merchant_id::text || ':' || @phone::text, 0));

-- name: VerificationInsert :one
INSERT INTO verifications (id, merchant_id, customer_id, wallet_id, phone, code_hash, link_token_hash, expires_at, last_sent_at)
VALUES (@id, @merchant_id, @customer_id, @wallet_id, @phone, @code_hash, @link_token_hash, @expires_at, @last_sent_at)
RETURNING *;

-- name: VerificationGetByPhone :one
SELECT * FROM verifications
WHERE merchant_id = @merchant_id AND phone = @phone;

-- name: VerificationGetByWallet :one
SELECT * FROM verifications
WHERE merchant_id = @merchant_id AND wallet_id = @wallet_id;

-- name: VerificationGetForUpdate :one
SELECT * FROM verifications
WHERE merchant_id = @merchant_id AND id = @id
FOR UPDATE;

-- name: VerificationGetByPhoneForUpdate :one
SELECT * FROM verifications
WHERE merchant_id = @merchant_id AND phone = @phone
FOR UPDATE;

-- name: VerificationRecordFailure :one
UPDATE verifications SET failed_attempts = failed_attempts + 1
WHERE merchant_id = @merchant_id AND id = @id AND state = 'pending'
RETURNING failed_attempts;

-- name: VerificationRenew :one
-- A resend: new secrets, a fresh lifetime and attempt budget.
UPDATE verifications
SET code_hash = @code_hash, link_token_hash = @link_token_hash,
    expires_at = @expires_at, failed_attempts = 0, last_sent_at = @last_sent_at, resent_at = @resent_at
WHERE merchant_id = @merchant_id AND id = @id AND state = 'pending'
RETURNING *;

-- name: VerificationMarkVerified :execrows
UPDATE verifications SET state = 'verified', verified_at = @verified_at
WHERE merchant_id = @merchant_id AND id = @id AND state = 'pending';
