-- +goose Up
-- Code hashes keyed outside the database (issue 8, section 6).
--
-- OTP codes, enrollment codes and link tokens, and QR short codes are now
-- stored as HMAC-SHA256 under a subkey of FEDDI_KEK (internal/platform/
-- secrethash), not as SHA-256 with a salt beside it: with the database
-- alone a 6- or 8-digit code can no longer be found by trying them all.
--
-- The rows written before live minutes (a QR short code and an OTP
-- challenge 5 minutes, an enrollment code 15) and hold hashes the new code
-- cannot check. Rather than keep the guessable scheme alive beside the new
-- one, they are ended here: a code sent before the deploy answers
-- "expired", never "wrong" (no attempt is counted), and the customer asks
-- for a new one (resend, a new payment, a new mint). QR payloads, 256
-- random bits and still plain SHA-256, keep working until their own expiry.

-- Enrollment: the salt goes; a pending code's lifetime ends now (resend
-- renews it with a keyed hash).
UPDATE verifications SET expires_at = now()
WHERE state = 'pending' AND expires_at > now();
ALTER TABLE verifications DROP COLUMN salt;
COMMENT ON COLUMN verifications.code_hash IS
    'HMAC-SHA256(secrethash enrollment/code subkey, verification id, code); the key is not in the database';
COMMENT ON COLUMN verifications.link_token_hash IS
    'HMAC-SHA256(secrethash enrollment/link-token subkey, verification id, token); the key is not in the database';

-- Payment one-time codes: open challenges end now.
UPDATE otp_challenges SET expires_at = now()
WHERE used_at IS NULL AND expires_at > now();
COMMENT ON COLUMN otp_challenges.code_hash IS
    'HMAC-SHA256(secrethash payments/otp-code subkey, challenge id, code); the key is not in the database';

-- QR short codes: live ones end now; their payloads stay valid.
UPDATE qr_tokens SET short_code_expires_at = now()
WHERE retired_at IS NULL AND short_code_expires_at > now();
COMMENT ON COLUMN qr_tokens.short_code_hash IS
    'HMAC-SHA256(secrethash qr/short-code subkey, merchant id, code); the key is not in the database';

-- +goose Down
-- The old binaries need a salt column; the keyed hashes written meanwhile
-- cannot be checked by them, so pending codes end as on the way up.
UPDATE verifications SET expires_at = now()
WHERE state = 'pending' AND expires_at > now();
UPDATE otp_challenges SET expires_at = now()
WHERE used_at IS NULL AND expires_at > now();
UPDATE qr_tokens SET short_code_expires_at = now()
WHERE retired_at IS NULL AND short_code_expires_at > now();
ALTER TABLE verifications ADD COLUMN salt bytea NOT NULL
    DEFAULT '\x00000000000000000000000000000000' CHECK (octet_length(salt) = 16);
ALTER TABLE verifications ALTER COLUMN salt DROP DEFAULT;
COMMENT ON COLUMN verifications.code_hash IS NULL;
COMMENT ON COLUMN verifications.link_token_hash IS NULL;
COMMENT ON COLUMN otp_challenges.code_hash IS NULL;
COMMENT ON COLUMN qr_tokens.short_code_hash IS NULL;
