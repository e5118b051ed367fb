// Package qr mints the wallet credentials a customer shows at the till: a
// QR payload (valid 60 seconds) and an 8-digit short code (valid 5
// minutes), two renderings of one single-use token. Minting invalidates the
// wallet's earlier unused tokens. Only hashes are stored; the raw values
// exist in the mint response alone and are never logged. A short code is
// stored as an HMAC under a server secret (platform/secrethash), so the
// table alone does not give its 10^8 values away; a payload, 256 random
// bits, is plain SHA-256.
//
// API for other packages:
//   - Service.Mint(ctx, merchantID, walletID) mints for a verified wallet.
//   - Service.Peek(ctx, merchantID, value) resolves a live payload or short
//     code to its wallet without using it (identify, lookup).
//   - Service.Use(ctx, q, value, paymentID, gate) uses a token inside the
//     payment's transaction, behind the caller's guess gate, so it is spent
//     exactly when the debit commits.
//   - Service.Purge(ctx, before, batch) deletes a batch of tokens minted
//     before the cutoff (long dead), for the payments credential purge.
//   - IsShortCode(value) tells the two renderings apart; HashPayload(payload)
//     is the stored hash of a payload (test support issues tokens with it).
package qr

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/wallets"
)

// The lifetimes of the contract.
const (
	PayloadTTL   = 60 * time.Second
	ShortCodeTTL = 5 * time.Minute
)

// payloadPrefix marks a Feddi QR payload (format version 1); the rest is
// 256 random bits, base64url.
const payloadPrefix = "FDQ1."

const shortCodeDigits = 8

// Minted is a fresh token, shown to the customer's wallet app only.
type Minted struct {
	Payload            string
	PayloadExpiresAt   time.Time
	ShortCode          string
	ShortCodeExpiresAt time.Time
}

// Reasons a QR credential is unusable (credential_invalid details.reason).
// Only unknown is a credential the service never issued (a guess); the
// others are everyday events at a counter: a code scanned twice, shown too
// late, or replaced by a newer mint of the same wallet.
const (
	ReasonUnknown    = "unknown"
	ReasonExpired    = "expired"
	ReasonUsed       = "used"
	ReasonSuperseded = "superseded"
)

// ErrCredentialInvalid is the sentinel of InvalidError.
var ErrCredentialInvalid = errors.New("credential invalid")

// InvalidError says why a payload or short code cannot be used.
type InvalidError struct {
	Reason string
}

func (e *InvalidError) Error() string {
	switch e.Reason {
	case ReasonUsed:
		return "the QR code or short code was already used"
	case ReasonExpired:
		return "the QR code or short code has expired"
	case ReasonSuperseded:
		return "the QR code or short code was replaced by a newer one minted for the same wallet; scan the newest"
	}
	return "the QR code or short code is not known"
}

// Unwrap returns ErrCredentialInvalid.
func (e *InvalidError) Unwrap() error { return ErrCredentialInvalid }

// Details carry the reason for the client.
func (e *InvalidError) Details() map[string]any { return map[string]any{"reason": e.Reason} }

// FieldValue is the payload or short code given to Use or Peek, the input
// an InvalidError is about (fielderr.Field).
const FieldValue fielderr.Field = "qr.Use.value"

// InputField is the payload or short code.
func (e *InvalidError) InputField() fielderr.Input { return fielderr.Input{Field: FieldValue} }

// IsShortCode says whether value is shaped like a short code (8 digits);
// anything else is taken for a QR payload.
func IsShortCode(value string) bool {
	if len(value) != shortCodeDigits {
		return false
	}
	for _, c := range value {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Service mints and resolves tokens.
type Service struct {
	pool  *pgxpool.Pool
	codes *secrethash.Hasher
	now   func() time.Time
}

// NewService returns the service; codes keys the short-code hashes, now is
// the clock tokens live and expire by.
func NewService(pool *pgxpool.Pool, codes *secrethash.Hasher, now func() time.Time) *Service {
	return &Service{pool: pool, codes: codes, now: now}
}

// Purge deletes up to batch tokens minted before the cutoff and says how
// many went; a count below batch means none older is left.
func (s *Service) Purge(ctx context.Context, before time.Time, batch int32) (int64, error) {
	n, err := db.New(s.pool).QrTokenPurge(ctx, db.QrTokenPurgeParams{Before: before, BatchSize: batch})
	if err != nil {
		return 0, fmt.Errorf("purging QR tokens: %w", err)
	}
	return n, nil
}

// mintAttempts bounds the retries when a fresh short code collides with a
// live one of the same merchant (one chance in 10^8 per live code).
const mintAttempts = 5

// Mint makes a new token for a verified wallet of the merchant, retiring
// the wallet's earlier unused ones, in one statement. An unknown wallet is
// wallets.ErrNotFound, a pending_proof one wallets.ErrNotVerified (read
// only then, to say which).
func (s *Service) Mint(ctx context.Context, merchantID, walletID string) (Minted, error) {
	for range mintAttempts {
		m, err := s.mintOnce(ctx, merchantID, walletID)
		if dbx.IsUniqueViolation(err, "qr_tokens_live_short_code_key") {
			continue // a live token of the merchant holds this code: draw again
		}
		if !errors.Is(err, dbx.ErrNotFound) {
			return m, err
		}
		w, err := wallets.Get(ctx, dbx.Q(ctx, s.pool), merchantID, walletID)
		if err != nil {
			return Minted{}, err
		}
		if w.Status != wallets.StatusVerified {
			return Minted{}, wallets.ErrNotVerified
		}
		return Minted{}, fmt.Errorf("minting a QR token: wallet %s is verified but was not found", walletID)
	}
	return Minted{}, errors.New("minting a QR token: no free short code after several draws")
}

func (s *Service) mintOnce(ctx context.Context, merchantID, walletID string) (Minted, error) {
	payload, err := newPayload()
	if err != nil {
		return Minted{}, err
	}
	code, err := newShortCode()
	if err != nil {
		return Minted{}, err
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Minted, error) {
		row, err := q.QrTokenMint(ctx, db.QrTokenMintParams{
			MerchantID:          merchantID,
			WalletID:            walletID,
			PayloadHash:         HashPayload(payload),
			ShortCodeHash:       s.shortCodeHash(merchantID, code),
			QrTtlSeconds:        int32(PayloadTTL / time.Second),
			ShortCodeTtlSeconds: int32(ShortCodeTTL / time.Second),
			Now:                 s.now(),
		})
		if err = dbx.Interpret(err); err != nil {
			if errors.Is(err, dbx.ErrNotFound) {
				return Minted{}, err
			}
			return Minted{}, fmt.Errorf("minting QR token: %w", err)
		}
		return Minted{Payload: payload, PayloadExpiresAt: row.QrExpiresAt, ShortCode: code, ShortCodeExpiresAt: row.ShortCodeExpiresAt}, nil
	})
}

// Peek returns the wallet of a live payload or short code without using
// it, or an *InvalidError.
func (s *Service) Peek(ctx context.Context, merchantID, value string) (walletID string, err error) {
	return s.find(ctx, dbx.Q(ctx, s.pool), merchantID, value, s.now())
}

// Use spends a live payload or short code for a payment, inside the
// payment's transaction q, behind the caller's guess gate (ratelimit): the
// gate and the use are one statement, so a good payment pays nothing extra
// for the limit. It returns the token's wallet; *ratelimit.Exceeded when
// the gate refused (nothing was evaluated); or an *InvalidError saying why
// the value cannot pay (only ReasonUnknown is a guess, which the caller
// counts with ratelimit.Limiter.Count while it holds the gate).
func (s *Service) Use(ctx context.Context, q *db.Queries, value, paymentID string, gate ratelimit.Gate) (walletID string, err error) {
	var wait float64
	if IsShortCode(value) {
		var row db.QrTokenUseByShortCodeRow
		row, err = q.QrTokenUseByShortCode(ctx, db.QrTokenUseByShortCodeParams{
			MerchantID: gate.MerchantID, LockSubject: gate.LockSubject, Buckets: gate.Buckets, Subjects: gate.Subjects,
			WindowSeconds: gate.WindowSeconds, IntervalSeconds: gate.IntervalSeconds, Now: gate.Now,
			PaymentID: paymentID, ShortCodeHash: s.shortCodeHash(gate.MerchantID, value),
		})
		wait, walletID = row.WaitSeconds, row.WalletID
	} else {
		var row db.QrTokenUseByPayloadRow
		row, err = q.QrTokenUseByPayload(ctx, db.QrTokenUseByPayloadParams{
			MerchantID: gate.MerchantID, LockSubject: gate.LockSubject, Buckets: gate.Buckets, Subjects: gate.Subjects,
			WindowSeconds: gate.WindowSeconds, IntervalSeconds: gate.IntervalSeconds, Now: gate.Now,
			PaymentID: paymentID, PayloadHash: HashPayload(value),
		})
		wait, walletID = row.WaitSeconds, row.WalletID
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("using QR token: %w", err)
	case ratelimit.Refused(wait) != nil:
		return "", ratelimit.Refused(wait)
	case walletID != "":
		return walletID, nil
	}
	if _, err := s.find(ctx, q, gate.MerchantID, value, gate.Now); err != nil {
		return "", err // why not: unknown, expired, superseded or used
	}
	return "", errors.New("using QR token: live token could not be used")
}

func (s *Service) find(ctx context.Context, q *db.Queries, merchantID, value string, now time.Time) (string, error) {
	var walletID, state string
	var err error
	if IsShortCode(value) {
		var row db.QrTokenFindByShortCodeRow
		row, err = q.QrTokenFindByShortCode(ctx, db.QrTokenFindByShortCodeParams{MerchantID: merchantID, ShortCodeHash: s.shortCodeHash(merchantID, value), Now: now})
		walletID, state = row.WalletID, row.State
	} else {
		var row db.QrTokenFindByPayloadRow
		row, err = q.QrTokenFindByPayload(ctx, db.QrTokenFindByPayloadParams{MerchantID: merchantID, PayloadHash: HashPayload(value), Now: now})
		walletID, state = row.WalletID, row.State
	}
	switch err = dbx.Interpret(err); {
	case errors.Is(err, dbx.ErrNotFound):
		return "", &InvalidError{Reason: ReasonUnknown}
	case err != nil:
		return "", fmt.Errorf("finding QR token: %w", err)
	case state == "live":
		return walletID, nil
	}
	return "", &InvalidError{Reason: state}
}

func newPayload() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("drawing a QR payload: %w", err)
	}
	return payloadPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func newShortCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("drawing a short code: %w", err)
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// HashPayload is what is stored of a QR payload. Exported for fixtures that
// issue tokens straight in the database (payments/paymenttest).
func HashPayload(payload string) []byte {
	h := sha256.Sum256([]byte(payload))
	return h[:]
}

// shortCodeHash binds the code to its merchant (the same digits at two
// merchants are two codes), keyed with the current KEK's short-code
// subkey. A short code is looked up by this hash, so only the current KEK
// finds one: after `feddi keys rotate-kek` the short codes minted in the
// last 5 minutes answer unknown and the app mints again (trying the
// previous KEK as well would let one code name two live tokens, one per
// key, and the unique index could not refuse it). The payload keeps
// working, being plain SHA-256.
func (s *Service) shortCodeHash(merchantID, code string) []byte {
	return s.codes.Sum(secrethash.ShortCode, merchantID, code)
}
