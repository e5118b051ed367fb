// Package idempotency makes a mutating request take effect at most once per
// Idempotency-Key. The result is stored in the same database transaction as
// the request's effects: Execute opens that transaction, hands it to the
// operation through the context (see dbx.InTx) and commits the two together,
// so an operation cannot forget to store its result.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

var (
	// ErrInProgress: a request with the same key is still running.
	ErrInProgress = errors.New("a request with this idempotency key is still in progress")
	// ErrKeyReused: the key was used for a different request.
	ErrKeyReused = errors.New("this idempotency key was used for a different request")
)

// Request identifies one keyed request.
type Request struct {
	MerchantID  string // the merchant of that credential (the key's shard)
	Scope       string // the credential the key belongs to
	Key         string
	OperationID string
	Fingerprint []byte
}

// Result is a response as sent to the client.
type Result struct {
	Status int
	Body   []byte
}

// Store runs keyed requests.
type Store struct {
	pool      *pgxpool.Pool
	retention time.Duration
	now       func() time.Time
}

// NewStore returns a store keeping results for retention, reading time
// from now (a result expires, and a key is free again, by that clock).
func NewStore(pool *pgxpool.Pool, retention time.Duration, now func() time.Time) *Store {
	return &Store{pool: pool, retention: retention, now: now}
}

// Retention is how long results are kept.
func (s *Store) Retention() time.Duration { return s.retention }

type openedKey struct{}

// Begin opens the transaction a keyed request will run in before anything
// else reads the database for it (its credential), so that the whole
// request costs one commit. Execute runs its first attempt in it; the
// returned end rolls it back unless Execute committed it (defer it).
func (s *Store) Begin(ctx context.Context) (context.Context, func(), error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ctx, func() {}, fmt.Errorf("beginning idempotent transaction: %w", err)
	}
	ctx = context.WithValue(dbx.WithAmbient(ctx, tx), openedKey{}, tx)
	return ctx, func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
}

// Execute runs op once for the key. A stored result with the same fingerprint
// is returned with replayed true; a different fingerprint is ErrKeyReused; a
// concurrent holder of the key is ErrInProgress.
//
// op runs inside the transaction carried by its context: the one Begin
// opened, for the first attempt, or a fresh one. Its result is stored
// and committed with its effects when its status is below 500; a 5xx result or
// an error rolls everything back, leaving the key free for a retry. An error
// for which dbx.IsRetryable holds runs op again in a fresh transaction.
func (s *Store) Execute(ctx context.Context, req Request, op func(ctx context.Context) (Result, error)) (res Result, replayed bool, err error) {
	opened, _ := ctx.Value(openedKey{}).(pgx.Tx)
	err = dbx.Retry(ctx, func() error {
		res, replayed = Result{}, false
		tx := opened
		if tx == nil {
			var err error
			if tx, err = s.pool.Begin(ctx); err != nil {
				return fmt.Errorf("beginning idempotent transaction: %w", err)
			}
		}
		opened = nil // a retry starts afresh
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		q := db.New(tx)
		now := s.now()

		claim, err := q.IdempotencyKeyClaim(ctx, db.IdempotencyKeyClaimParams{MerchantID: req.MerchantID, Scope: req.Scope, Key: req.Key, Now: now})
		switch {
		case err != nil:
			return fmt.Errorf("claiming idempotency key: %w", err)
		case !claim.Locked:
			return ErrInProgress
		case claim.StatusCode != 0 && !bytes.Equal(claim.Fingerprint, req.Fingerprint):
			return ErrKeyReused
		case claim.StatusCode != 0:
			res, replayed = Result{Status: int(claim.StatusCode), Body: claim.ResponseBody}, true
			return nil
		}

		txCtx := dbx.WithAmbient(ctx, tx)
		res, err = op(txCtx)
		if err != nil {
			return err
		}
		if res.Status >= 500 {
			return nil // rolled back by the deferred Rollback; nothing stored
		}
		body, err := redactSecrets(res.Body)
		if err != nil {
			return fmt.Errorf("redacting stored response: %w", err)
		}
		if err := q.IdempotencyKeyInsert(ctx, db.IdempotencyKeyInsertParams{
			MerchantID:       req.MerchantID,
			Scope:            req.Scope,
			Key:              req.Key,
			OperationID:      req.OperationID,
			Fingerprint:      req.Fingerprint,
			StatusCode:       int32(res.Status),
			ResponseBody:     body,
			RetentionSeconds: s.retention.Seconds(),
			Now:              now,
		}); err != nil {
			return fmt.Errorf("storing idempotent result: %w", err)
		}
		return dbx.Commit(txCtx, tx)
	})
	return res, replayed, err
}

// PurgeExpired deletes up to batch expired results and says how many went.
func (s *Store) PurgeExpired(ctx context.Context, batch int32) (int64, error) {
	return db.New(s.pool).IdempotencyKeyDeleteExpired(ctx, db.IdempotencyKeyDeleteExpiredParams{Now: s.now(), BatchSize: batch})
}

// Fingerprint identifies a request: method, path and the canonical form of
// its JSON body (object keys sorted, insignificant whitespace dropped), so
// two encodings of the same request match.
func Fingerprint(method, path string, body []byte) ([]byte, error) {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\n%s\n", method, path)
	if len(bytes.TrimSpace(body)) > 0 {
		canonical, err := canonicalJSON(body)
		if err != nil {
			return nil, err
		}
		h.Write(canonical)
	}
	return h.Sum(nil), nil
}

func canonicalJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonicalizing body: %w", err)
	}
	return json.Marshal(v) // maps marshal with sorted keys
}

// secretFields are response data fields that hold a secret shown only once.
// A response data object that has a secret_redacted flag is stored with these
// fields nulled and the flag set, so a replay never shows the secret again.
var secretFields = []string{"api_key", "token", "qr_payload", "short_code", "secret"}

type envelope struct {
	OK    json.RawMessage `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error json.RawMessage `json:"error"`
	Meta  map[string]any  `json:"meta"`
}

func redactSecrets(body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"secret_redacted"`)) {
		return body, nil // no secret-bearing object: nothing to parse
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	var data map[string]json.RawMessage
	if len(env.Data) == 0 || env.Data[0] != '{' {
		return body, nil // null or not an object: nothing to redact
	}
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return nil, err
	}
	if _, ok := data["secret_redacted"]; !ok {
		return body, nil
	}
	for _, f := range secretFields {
		if _, ok := data[f]; ok {
			data[f] = json.RawMessage("null")
		}
	}
	data["secret_redacted"] = json.RawMessage("true")
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	env.Data = raw
	return json.Marshal(env)
}

// MarkReplay rewrites a stored body for its replay: the current request id
// and idempotent_replay set to true.
func MarkReplay(body []byte, requestID string) ([]byte, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("reading stored response: %w", err)
	}
	if env.Meta == nil {
		env.Meta = map[string]any{}
	}
	env.Meta["request_id"] = requestID
	env.Meta["idempotent_replay"] = true
	return json.Marshal(env)
}
