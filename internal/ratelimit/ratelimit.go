// Package ratelimit counts attempts per merchant and subject (a terminal) in
// fixed windows kept in PostgreSQL, so every replica sees the same counts.
// It guards the credentials an attacker could guess: short codes and QR
// payloads (identify, lookup, payments) and one-time codes.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// Limit allows Max hits per Window in one Bucket.
type Limit struct {
	Bucket string
	Max    int
	Window time.Duration
}

// CredentialGuesses limits failed short-code, QR and one-time-code attempts
// per terminal: 10 misses per minute, as the document says.
var CredentialGuesses = Limit{Bucket: "credential_guess", Max: 10, Window: time.Minute}

// ErrLimited is the sentinel of Exceeded, for errors.Is.
var ErrLimited = errors.New("rate limited")

// Exceeded says a subject used up its window; RetryAfter says when the next
// window starts.
type Exceeded struct {
	RetryAfter time.Duration
}

func (e *Exceeded) Error() string {
	return "too many failed credential attempts from this terminal; retry later"
}

// Unwrap returns ErrLimited.
func (e *Exceeded) Unwrap() error { return ErrLimited }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1).
func (e *Exceeded) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Details are the error's figures for the client.
func (e *Exceeded) Details() map[string]any {
	return map[string]any{"retry_after_seconds": e.RetryAfterSeconds()}
}

// Limiter checks and counts hits.
type Limiter struct {
	pool *pgxpool.Pool
}

// New returns a limiter over the database.
func New(pool *pgxpool.Pool) *Limiter { return &Limiter{pool: pool} }

// Check fails with *Exceeded when the subject has no hit left in the
// current window. It counts nothing.
func (l *Limiter) Check(ctx context.Context, limit Limit, merchantID, subject string) error {
	row, err := dbx.Q(ctx, l.pool).RateLimitGet(ctx, db.RateLimitGetParams{
		WindowSeconds: limit.windowSeconds(), MerchantID: merchantID, Bucket: limit.Bucket, Subject: subject,
	})
	switch err = dbx.Interpret(err); {
	case errors.Is(err, dbx.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("reading rate limit %s: %w", limit.Bucket, err)
	case int(row.Hits) >= limit.Max:
		return &Exceeded{RetryAfter: time.Duration(row.RetryAfterSeconds) * time.Second}
	}
	return nil
}

// Hit counts one attempt. It runs as a step of its own that persists even
// when the request then fails (a miss is counted, then reported).
func (l *Limiter) Hit(ctx context.Context, limit Limit, merchantID, subject string) error {
	return dbx.InTx(ctx, l.pool, func(ctx context.Context, q *db.Queries) error {
		if err := q.RateLimitHit(ctx, db.RateLimitHitParams{
			MerchantID: merchantID, Bucket: limit.Bucket, Subject: subject, WindowSeconds: limit.windowSeconds(),
		}); err != nil {
			return fmt.Errorf("counting rate limit %s: %w", limit.Bucket, err)
		}
		return nil
	})
}

func (l Limit) windowSeconds() int32 { return int32(l.Window / time.Second) }
