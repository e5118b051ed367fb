package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/qr"
)

// tokenTTL outlives any run: pay-only must not meet an expired token.
const tokenTTL = time.Hour

// IssueTokens writes n live QR tokens, spread round-robin over the
// wallets, straight into qr_tokens with one COPY and returns their
// payloads. The API keeps one live token per wallet, so a pay-only window
// of thousands of payments cannot be minted ahead through it. Short codes
// are random hashes nobody can type: the payments use the payloads.
func IssueTokens(ctx context.Context, pool *pgxpool.Pool, merchantID string, ws []Wallet, n int) ([]string, error) {
	payloads := make([]string, n)
	rows := make([][]any, n)
	expires := time.Now().Add(tokenTTL)
	for i := range n {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		payloads[i] = "FDQ1." + base64.RawURLEncoding.EncodeToString(b)
		code := sha256.Sum256(b)
		rows[i] = []any{merchantID, ws[i%len(ws)].ID, qr.HashPayload(payloads[i]), code[:], expires, expires}
	}
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"qr_tokens"},
		[]string{"merchant_id", "wallet_id", "payload_hash", "short_code_hash", "qr_expires_at", "short_code_expires_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return nil, fmt.Errorf("issuing %d QR tokens: %w", n, err)
	}
	return payloads, nil
}
