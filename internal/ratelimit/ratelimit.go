// Package ratelimit limits guesses at the short secrets an attacker could
// enumerate (QR payloads, short codes, one-time codes) in token buckets kept
// in PostgreSQL, so every replica sees the same counts. The same buckets
// limit attempts that count whatever their outcome (Take): phone lookups
// per terminal and SMS per integration and country.
//
// Only guesses count: a credential the service never issued (an unknown
// payload or code, a wrong one-time code). A code the service did issue and
// that is used, expired or superseded by a newer mint is an everyday event at
// a counter and counts nothing. A good attempt writes nothing.
//
// Guesses are counted three times: per terminal (the subject that is locked,
// so that check and count are one atomic step however many guesses of one
// terminal arrive at once), per API key (a ceiling several times the
// terminal's, so inventing a terminal id per guess gains little) and per
// merchant. Each bucket is a GCRA token bucket: it refills continuously, so
// nobody is reset, or locked out, at the turn of a minute.
//
// API for other packages:
//   - Limiter.Guard(ctx, subject, evaluate, isGuess) runs one attempt behind
//     the gate and counts it when isGuess says it was a guess.
//   - Limiter.Gate(subject), Refused(wait) and Limiter.Count: the same
//     for a statement that passes the gate and evaluates the credential in
//     one round trip (qr.Service.Use).
//   - Limiter.Take(ctx, q, merchant, buckets...) counts an attempt that
//     counts whatever its outcome, in the caller's transaction;
//     CountLookup (phone lookups per terminal) and CountSMS (SMS per
//     integration and per country calling code) are its uses.
//   - Subject names who is counted; Limits are the settings.
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

// Rate allows Max events per Window, refilled continuously.
type Rate struct {
	Max    int
	Window time.Duration
}

// interval is the time one event takes to drain from the bucket.
func (r Rate) interval() time.Duration { return r.Window / time.Duration(r.Max) }

// Valid says whether the rate can be enforced.
func (r Rate) Valid() bool { return r.Max >= 1 && r.Window >= time.Second }

// String writes the rate as the settings read it: "10/1m0s".
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Max, r.Window) }

// Limits are the guess limits (per terminal, and the ceilings per API key
// and per merchant) and the limits of counted attempts (Take).
type Limits struct {
	PerTerminal Rate
	PerKey      Rate
	PerMerchant Rate
	// LookupPerTerminal bounds customer lookups by phone (CountLookup).
	LookupPerTerminal Rate
	// SMSPerIntegration and SMSPerCountry bound the SMS an integration
	// sends, in all and to one country calling code (CountSMS).
	SMSPerIntegration Rate
	SMSPerCountry     Rate
}

// Subject is who a guess is counted against.
type Subject struct {
	MerchantID string
	// KeyID is the API key of the credential (the key behind a terminal
	// token too).
	KeyID string
	// Terminal names the terminal: that of a terminal token, or the
	// context.terminal_id an API-key caller sent; "" when neither is known,
	// and then the key is the terminal.
	Terminal string
}

// terminal is the terminal bucket's subject. A terminal id is chosen by
// the integration, so it is scoped to the key that vouches for it.
func (s Subject) terminal() string {
	if s.Terminal == "" {
		return "key:" + s.KeyID
	}
	return "key:" + s.KeyID + ":terminal:" + s.Terminal
}

// ErrLimited is the sentinel of Exceeded, for errors.Is.
var ErrLimited = errors.New("rate limited")

// Exceeded says a bucket is full; RetryAfter says when the next attempt
// may go through.
type Exceeded struct {
	RetryAfter time.Duration
	// message says what was limited; guesses when empty.
	message string
}

func (e *Exceeded) Error() string {
	if e.message != "" {
		return e.message
	}
	return "too many wrong credentials from this terminal or API key; retry later"
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

// Limiter checks and counts guesses.
type Limiter struct {
	pool   *pgxpool.Pool
	limits Limits
	now    func() time.Time
}

// New returns a limiter over the database; now is the clock.
func New(pool *pgxpool.Pool, limits Limits, now func() time.Time) *Limiter {
	return &Limiter{pool: pool, limits: limits, now: now}
}

// Limits returns the limits in force.
func (l *Limiter) Limits() Limits { return l.limits }

// The buckets of a guess.
const (
	bucketTerminal = "guess:terminal"
	bucketKey      = "guess:key"
	bucketMerchant = "guess:merchant"
)

type buckets struct {
	names, subjects []string
	windows, steps  []float64
}

func (l *Limiter) bucketsOf(s Subject) buckets {
	var b buckets
	add := func(name, subject string, r Rate) {
		b.names = append(b.names, name)
		b.subjects = append(b.subjects, subject)
		b.windows = append(b.windows, r.Window.Seconds())
		b.steps = append(b.steps, r.interval().Seconds())
	}
	add(bucketTerminal, s.terminal(), l.limits.PerTerminal)
	add(bucketKey, "key:"+s.KeyID, l.limits.PerKey)
	add(bucketMerchant, "merchant", l.limits.PerMerchant)
	return b
}

// Gate is what one statement needs to pass a subject's gate by itself
// (rate_limit_gate): a statement that evaluates a credential and passes
// the gate in the same round trip, so a good attempt costs nothing extra
// (qr.Service.Use). Refused turns its answer into an error; Count counts a
// guess it made.
type Gate struct {
	MerchantID      string
	LockSubject     string
	Buckets         []string
	Subjects        []string
	WindowSeconds   []float64
	IntervalSeconds []float64
	Now             time.Time
}

// Gate returns the gate of a subject, now.
func (l *Limiter) Gate(s Subject) Gate {
	b := l.bucketsOf(s)
	return Gate{
		MerchantID: s.MerchantID, LockSubject: s.terminal(), Buckets: b.names, Subjects: b.subjects,
		WindowSeconds: b.windows, IntervalSeconds: b.steps, Now: l.now(),
	}
}

// Refused is the error of a gate that answered wait seconds: nil when
// wait <= 0 (go ahead), else *Exceeded.
func Refused(wait float64) error {
	if wait <= 0 {
		return nil
	}
	return &Exceeded{RetryAfter: time.Duration(wait * float64(time.Second))}
}

// Count counts one attempt (a guess, a lookup, an SMS) in every bucket of
// a gate it passed, on the queries of the transaction that holds its lock.
func (l *Limiter) Count(ctx context.Context, q *db.Queries, g Gate) error {
	if err := q.RateLimitHit(ctx, db.RateLimitHitParams{
		MerchantID: g.MerchantID, Buckets: g.Buckets, Subjects: g.Subjects, IntervalSeconds: g.IntervalSeconds, Now: g.Now,
	}); err != nil {
		return fmt.Errorf("counting an attempt: %w", err)
	}
	return nil
}

// Guard runs one attempt at a guessable credential behind the subject's
// gate: it waits for the terminal's earlier guesses to commit, refuses with
// *Exceeded when a bucket is full (evaluate does not run), runs evaluate,
// and counts the attempt when isGuess(its error) holds. It returns
// evaluate's error.
//
// Guard runs in the request's transaction itself (dbx.InRequestTx): the
// gate's lock and the count must last until the request's outcome commits,
// so they cannot sit in a savepoint that a failed attempt rolls back.
// evaluate runs its own writes in a savepoint (dbx.InTx), as usual.
func (l *Limiter) Guard(ctx context.Context, s Subject, evaluate func(ctx context.Context) error, isGuess func(error) bool) error {
	var outcome error
	err := dbx.InRequestTx(ctx, l.pool, func(ctx context.Context, q *db.Queries) error {
		g := l.Gate(s)
		wait, err := q.RateLimitGate(ctx, db.RateLimitGateParams(g))
		if err != nil {
			return fmt.Errorf("reading guess limits: %w", err)
		}
		if outcome = Refused(wait); outcome == nil {
			outcome = evaluate(ctx)
			if outcome != nil && isGuess(outcome) {
				return l.Count(ctx, q, g)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return outcome
}
