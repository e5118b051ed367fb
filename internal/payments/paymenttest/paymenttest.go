// Package paymenttest is test support for payments: QR tokens issued
// straight in the database, so tests and benchmarks can pay concurrently
// from one wallet (the API keeps one live token per wallet). Tests only.
package paymenttest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/qr"
)

// Tokens issues n live QR tokens for the wallet, valid for ttl, and returns
// their payloads. Their short codes are random hashes nobody can type. They
// live ttl from the wall clock, which a test clock reads until advanced.
func Tokens(t testing.TB, pool *pgxpool.Pool, merchantID, walletID string, n int, ttl time.Duration) []string {
	t.Helper()
	q := db.New(pool)
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		payload := "FDQ1." + base64.RawURLEncoding.EncodeToString(b)
		code := sha256.Sum256(b)
		if _, err := q.QrTokenInsert(context.Background(), db.QrTokenInsertParams{
			MerchantID: merchantID, WalletID: walletID,
			PayloadHash: qr.HashPayload(payload), ShortCodeHash: code[:],
			QrTtlSeconds: int32(ttl / time.Second), ShortCodeTtlSeconds: int32(ttl / time.Second), Now: time.Now(),
		}); err != nil {
			t.Fatalf("issuing QR token: %v", err)
		}
		out[i] = payload
	}
	return out
}
