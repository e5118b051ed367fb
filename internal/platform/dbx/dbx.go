// Package dbx is the one way to run database work: in the request's ambient
// transaction when there is one (so the idempotency record and the effects
// commit together), otherwise in a transaction of its own, retried on
// serialization failures and deadlocks.
package dbx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/feddi/partner-api/gen/db"
)

// ErrNotFound is what stores return for an absent row.
var ErrNotFound = errors.New("not found")

// ErrConflict is what stores return for a unique violation they did not expect.
var ErrConflict = errors.New("conflict")

type ambientKey struct{}

// ambient is a request's transaction, the count of the savepoints
// opened in it, which names each one, and what to run once it commits.
type ambient struct {
	tx         pgx.Tx
	savepoints *atomic.Int64
	committed  *afterCommit
}

// WithAmbient returns a context whose database work joins tx. Whoever
// commits tx runs what AfterCommit registered on the returned context by
// committing with Commit.
func WithAmbient(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, ambientKey{}, ambient{tx: tx, savepoints: new(atomic.Int64), committed: &afterCommit{}})
}

// afterCommit holds the functions to run once a transaction commits.
type afterCommit struct {
	mu  sync.Mutex
	fns []func()
}

func (a *afterCommit) add(fn func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fns = append(a.fns, fn)
}

func (a *afterCommit) mark() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.fns)
}

// dropSince forgets what was registered since mark: the savepoint it was
// registered in was rolled back.
func (a *afterCommit) dropSince(mark int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fns = a.fns[:mark]
}

func (a *afterCommit) run() {
	a.mu.Lock()
	fns := a.fns
	a.fns = nil
	a.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// AfterCommit runs fn once the work of ctx is committed: after the commit
// of the ambient transaction when there is one (never, when it rolls back,
// when the savepoint fn was registered in rolls back, or when the attempt
// is retried), at once otherwise. It is how counters of business events
// count committed effects only.
func AfterCommit(ctx context.Context, fn func()) {
	if a, ok := ctx.Value(ambientKey{}).(ambient); ok {
		a.committed.add(fn)
		return
	}
	fn()
}

// Commit commits tx, the ambient transaction of ctx (WithAmbient), and then
// runs what AfterCommit registered on it.
func Commit(ctx context.Context, tx pgx.Tx) error {
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if a, ok := ctx.Value(ambientKey{}).(ambient); ok && a.tx == tx {
		a.committed.run()
	}
	return nil
}

// Ambient returns the transaction the context carries, if any.
func Ambient(ctx context.Context) (pgx.Tx, bool) {
	a, ok := ctx.Value(ambientKey{}).(ambient)
	return a.tx, ok
}

// MaxAttempts bounds the retries of a transaction that lost a race.
const MaxAttempts = 8

// InTx runs fn in a transaction. Inside an ambient transaction fn runs in a
// savepoint: when fn fails nothing it wrote persists, and the caller's
// transaction goes on. Otherwise InTx begins, commits and retries by itself.
//
// A savepoint that fn leaves without error is not released: the request's
// commit releases it with everything else, one round trip less per call.
// So the locks taken in it stay until that commit, as they would after a
// release.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, q *db.Queries) error) error {
	return inTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, db.New(tx)) })
}

// InTxWithTx is InTxValue for work that writes through something besides
// sqlc (River's InsertTx): fn gets the transaction itself, savepoint and
// retry rules as InTx. A function that must write in the caller's
// transaction takes that pgx.Tx as a parameter, so calling it outside one
// does not compile.
func InTxWithTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) (T, error)) (T, error) {
	var out T
	err := inTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		v, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

// inTx is InTx handing fn the transaction (the request's, in a savepoint,
// or its own).
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if a, ok := ctx.Value(ambientKey{}).(ambient); ok {
		name := "dbx_" + strconv.FormatInt(a.savepoints.Add(1), 10)
		if _, err := a.tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
			return fmt.Errorf("opening savepoint: %w", err)
		}
		mark := a.committed.mark()
		if err := fn(ctx, a.tx); err != nil {
			a.committed.dropSince(mark)
			if _, rbErr := a.tx.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
				return errors.Join(err, fmt.Errorf("rolling back savepoint: %w", rbErr))
			}
			return err
		}
		return nil
	}
	return Retry(ctx, func() error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("beginning transaction: %w", err)
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		txCtx := WithAmbient(ctx, tx)
		if err := fn(txCtx, tx); err != nil {
			return err
		}
		return Commit(txCtx, tx)
	})
}

// InRequestTx runs fn in the request's transaction itself when there is one
// (not in a savepoint), otherwise in a transaction of its own. It is for
// steps that must last until the request's outcome commits even when the
// request then reports an error: an attempt counter, a transaction-scoped
// lock (rolling a savepoint back releases the locks taken in it). fn must
// return an error only when the whole request is to fail with it; it
// reports a business outcome some other way and runs its own fallible
// writes through InTx.
func InRequestTx(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, q *db.Queries) error) error {
	if outer, ok := Ambient(ctx); ok {
		return fn(ctx, db.New(outer))
	}
	return InTx(ctx, pool, fn)
}

// InTxValue is InTx for work that returns a value.
func InTxValue[T any](ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, q *db.Queries) (T, error)) (T, error) {
	return InTxWithTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) (T, error) { return fn(ctx, db.New(tx)) })
}

// Q returns queries for reads: on the ambient transaction when there is one,
// so a request never takes a second connection while it holds row locks.
func Q(ctx context.Context, pool *pgxpool.Pool) *db.Queries {
	if tx, ok := Ambient(ctx); ok {
		return db.New(tx)
	}
	return db.New(pool)
}

// Retry runs attempt until it succeeds, fails with an error that retrying
// cannot fix, or MaxAttempts is reached.
func Retry(ctx context.Context, attempt func() error) error {
	var err error
	for i := range MaxAttempts {
		if err = attempt(); err == nil || !IsRetryable(err) {
			return err
		}
		backoff := time.Duration(1<<min(i, 6)) * time.Millisecond
		backoff += time.Duration(rand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
	return fmt.Errorf("giving up after %d attempts: %w", MaxAttempts, err)
}

// IsRetryable says whether a transaction failed only because it lost a race
// (serialization failure, deadlock) and may succeed when run again.
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// IsUniqueViolation says whether err is a unique violation, optionally of a
// named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return constraint == "" || ConstraintName(pgErr) == constraint
	}
	return false
}

// shardSuffix is what Citus appends to a table's or constraint's name on
// each of its shards (the shard id).
var shardSuffix = regexp.MustCompile(`_[0-9]+$`)

// ConstraintName is the name of the constraint pgErr names, as the
// migrations name it. On Citus an error raised on a shard comes back
// without its constraint and table fields, and its message names the
// shard's copies, with the shard id appended: the name is then read from
// the message (PostgreSQL's English one) and the suffix dropped. (No
// constraint or table of ours ends in _<digits>; TestSchemaIsShardable…
// holds that.)
func ConstraintName(pgErr *pgconn.PgError) string {
	name := pgErr.ConstraintName
	if name == "" {
		name = quotedAfter(pgErr.Message, `constraint "`)
	}
	return shardSuffix.ReplaceAllString(name, "")
}

// TableName is ConstraintName for the table pgErr names.
func TableName(pgErr *pgconn.PgError) string {
	name := pgErr.TableName
	if name == "" {
		if name = quotedAfter(pgErr.Message, `relation "`); name == "" {
			name = quotedAfter(pgErr.Message, `table "`)
		}
	}
	return shardSuffix.ReplaceAllString(name, "")
}

// quotedAfter reads the double-quoted name that follows prefix in msg.
func quotedAfter(msg, prefix string) string {
	_, rest, ok := strings.Cut(msg, prefix)
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return name
}

// Interpret translates driver errors stores do not handle themselves:
// no rows becomes ErrNotFound, a unique violation ErrConflict.
func Interpret(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case IsUniqueViolation(err, ""):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// NullString stores an optional text: the empty string as NULL.
func NullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// String reads an optional text: NULL as the empty string.
func String(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// IsUnavailable says whether err means the database cannot be reached (a
// closed pool, a refused or lost connection, a server shutting down, on
// Citus a worker a transaction lost), which clients see as
// service_unavailable rather than internal_error.
func IsUnavailable(err error) bool {
	if errors.Is(err, puddle.ErrClosedPool) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" ||
			citusLostWorker(pgErr)
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// citusLostWorker says whether a Citus coordinator failed a transaction
// because its connection to a worker broke, which Citus raises without an
// error code (XX000; a connection it cannot open is 08006): the connection
// broke mid-transaction ("failure on connection marked as essential"), the
// worker ended the session as it shut down (its 57P01, relayed without its
// code), or the commit went unconfirmed ("could not commit transaction for
// shard …"). The last one is also how a deferred constraint a shard
// refused at commit reads; the service defers none that its own writes
// can break (ledger_post books entries with every transaction), and a
// retry with the same key replays a commit that did happen.
func citusLostWorker(pgErr *pgconn.PgError) bool {
	if pgErr.Code != "XX000" {
		return false
	}
	for _, prefix := range []string{
		"failure on connection marked as essential",
		"terminating connection due to administrator command",
		"could not commit transaction for shard",
	} {
		if strings.HasPrefix(pgErr.Message, prefix) {
			return true
		}
	}
	return false
}

// UTC reads an optional time in UTC.
func UTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
