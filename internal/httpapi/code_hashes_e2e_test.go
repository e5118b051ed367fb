package httpapi_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
)

// The attack of issue 8 (section 6, code hashes): someone holding a copy of
// the database (a backup, a replica) tries every 6- or 8-digit value
// against a stored code hash, with whatever the row holds (a salt, the
// challenge or merchant id). Keyed with a server secret outside the
// database, nothing matches; the codes still work through the API.

// bruteForce tries every code of `digits` digits starting with prefix and
// returns the one whose hash under the old schemes equals stored.
func bruteForce(stored []byte, digits int, prefix string, hash func(code string) []byte) (string, bool) {
	n := 1
	for range digits - len(prefix) {
		n *= 10
	}
	for i := range n {
		code := fmt.Sprintf("%s%0*d", prefix, digits-len(prefix), i)
		if string(hash(code)) == string(stored) {
			return code, true
		}
	}
	return "", false
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func TestCodeHashesCannotBeReversedFromTheDatabase(t *testing.T) {
	t.Parallel()

	t.Run("OTPCode", func(t *testing.T) {
		t.Parallel()
		e := newPayEnv(t)
		w := e.wallet(5000)
		res := e.pay(eur(1000, otpStart(e.phoneOf(w.ID))))
		got := wantError(t, res, res.Body, http.StatusPaymentRequired, client.ErrorCodeOtpRequired)
		id := (*got.Details)["challenge_id"].(string)
		var stored []byte
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT code_hash FROM otp_challenges WHERE id = $1`, id).Scan(&stored))

		code, found := bruteForce(stored, 6, "", func(c string) []byte { return sha([]byte("otp\x00" + id + "\x00" + c)) })
		require.False(t, found, "the database alone gave the OTP code away: %s", code)

		paid := e.pay(eur(1000, otpFinish(id, e.otpCode(id))))
		require.Equal(t, http.StatusOK, paid.StatusCode(), "body: %s", paid.Body)
	})

	t.Run("EnrollmentCodeAndLinkToken", func(t *testing.T) {
		t.Parallel()
		e := newEnrollEnv(t)
		in := e.enroll(newEnrollPhone(), 0)
		id := in.Verification.VerificationId
		// Everything the row holds, whatever its columns.
		var raw []byte
		require.NoError(t, e.s.Pool.QueryRow(e.ctx, `SELECT to_jsonb(v) FROM verifications v WHERE id = $1`, id).Scan(&raw))
		var row map[string]any
		require.NoError(t, json.Unmarshal(raw, &row))
		hexBytes := func(col string) []byte {
			t.Helper()
			s, _ := row[col].(string) // bytea in JSON: "\\x…"
			var b []byte
			_, err := fmt.Sscanf(s, `\x%x`, &b)
			require.NoError(t, err, "column %s", col)
			return b
		}
		stored := hexBytes("code_hash")
		var salt []byte
		if _, ok := row["salt"]; ok {
			salt = hexBytes("salt")
		}
		code, found := bruteForce(stored, 6, "", func(c string) []byte { return sha(salt, []byte("code"), []byte{0}, []byte(c)) })
		require.False(t, found, "the database alone gave the enrollment code away: %s", code)
		require.NotContains(t, row, "salt", "no salt beside the hash")

		code, token := e.queuedSecrets(id)
		require.NotEqual(t, sha(salt, []byte("link"), []byte{0}, []byte(token)), hexBytes("link_token_hash"))
		require.NotEqual(t, sha([]byte(code)), stored)
		res := e.verify(client.VerifyEnrollmentInputData{VerificationId: &id, Code: &code})
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	})

	t.Run("ShortCode", func(t *testing.T) {
		t.Parallel()
		e := newPayEnv(t)
		w := e.wallet(5000)
		m := e.mint(w.ID)
		var stored []byte
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx,
			`SELECT short_code_hash FROM qr_tokens WHERE wallet_id = $1 AND retired_at IS NULL`, w.ID).Scan(&stored))
		// The 10^6 codes sharing the real one's first two digits (all 10^8
		// take too long for a test; the real code is among these).
		code, found := bruteForce(stored, 8, m.ShortCode[:2], func(c string) []byte {
			return sha([]byte("short_code\x00" + e.Tenant.MerchantID + "\x00" + c))
		})
		require.False(t, found, "the database alone gave the short code away: %s", code)
		require.NotEqual(t, sha([]byte(m.ShortCode)), stored)

		paid := e.payQR(m.ShortCode, 1000)
		require.Equal(t, http.StatusOK, paid.StatusCode(), "body: %s", paid.Body)
	})
}
