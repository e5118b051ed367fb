package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/ratelimit"
)

// MessagePrefix is the id prefix of messages (msg_…).
const MessagePrefix = "msg"

// MaxDeliveryAttempts bounds River's retries. With its backoff (attempt⁴
// seconds) six attempts span about a quarter of an hour: the lifetime of
// the code the message carries. After that the message is given up and
// the customer asks for a new code.
const MaxDeliveryAttempts = 6

// StaleAfter is the age at which a waiting message marks sms degraded.
const StaleAfter = 5 * time.Minute

// JobInserter inserts River jobs in a transaction (*jobs.Client does).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Outbox queues messages in the caller's transaction.
type Outbox struct {
	jobs JobInserter
	caps *ratelimit.Limiter
	now  func() time.Time
}

// CappedBy returns the outbox counting every message against the
// limiter's SMS caps (ratelimit.CountSMS) as it is queued.
func (o *Outbox) CappedBy(l *ratelimit.Limiter) *Outbox {
	return &Outbox{jobs: o.jobs, caps: l, now: o.now}
}

// NewOutbox returns an outbox inserting its delivery jobs with jobs; a
// message is queued at now (the service clock).
func NewOutbox(jobs JobInserter, now func() time.Time) *Outbox {
	return &Outbox{jobs: jobs, now: now}
}

// Outgoing is a message to queue. SubjectID names what the message is for
// (a verification, an OTP challenge): queuing a message supersedes the
// subject's earlier ones that have not left yet, whose code is dead anyway.
type Outgoing struct {
	MerchantID string
	// IntegrationID is the integration the message is sent for, whose SMS
	// caps it counts against.
	IntegrationID string
	Phone         string
	Kind          Kind
	SubjectID     string
	Body          string
}

// Enqueue writes the message and its delivery job in the caller's
// transaction tx (dbx.InTxWithTx), refusing it with *ratelimit.Exceeded
// past the SMS caps (CappedBy): the message exists if and only if that
// transaction commits.
func (o *Outbox) Enqueue(ctx context.Context, tx pgx.Tx, m Outgoing) (string, error) {
	q := db.New(tx)
	// Counted in the transaction that queues the message: a refused or
	// rolled-back send counts nothing that did not go out.
	if o.caps != nil {
		if err := o.caps.CountSMS(ctx, q, ratelimit.SMS{MerchantID: m.MerchantID, IntegrationID: m.IntegrationID, Phone: m.Phone}); err != nil {
			return "", err
		}
	}
	if _, err := q.SMSOutboxSupersede(ctx, db.SMSOutboxSupersedeParams{MerchantID: m.MerchantID, SubjectID: m.SubjectID}); err != nil {
		return "", fmt.Errorf("superseding earlier messages: %w", err)
	}
	id := ids.New(MessagePrefix)
	if err := q.SMSOutboxInsert(ctx, db.SMSOutboxInsertParams{
		ID: id, MerchantID: m.MerchantID, Phone: m.Phone, Kind: string(m.Kind), SubjectID: m.SubjectID, Body: &m.Body, Now: o.now(),
	}); err != nil {
		return "", fmt.Errorf("queuing message: %w", err)
	}
	if _, err := o.jobs.InsertTx(ctx, tx, SendArgs{MerchantID: m.MerchantID, MessageID: id}, &river.InsertOpts{MaxAttempts: MaxDeliveryAttempts}); err != nil {
		return "", fmt.Errorf("queuing delivery job: %w", err)
	}
	return id, nil
}

// SendArgs is the delivery job. It names the message only: the phone and
// the text stay in sms_outbox, where delivery wipes the text.
type SendArgs struct {
	MerchantID string `json:"merchant_id"` // the message's shard
	MessageID  string `json:"message_id"`
}

// Kind names the job in River's tables.
func (SendArgs) Kind() string { return "sms_send" }

// SendWorker delivers queued messages through the sender.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	pool   *pgxpool.Pool
	sender Sender
	logger *slog.Logger
	now    func() time.Time
}

// NewSendWorker returns the dispatcher; register it with river.AddWorker.
// now is the service clock (a message's delivered_at).
func NewSendWorker(pool *pgxpool.Pool, sender Sender, logger *slog.Logger, now func() time.Time) *SendWorker {
	return &SendWorker{pool: pool, sender: sender, logger: logger, now: now}
}

// Timeout leaves room for the webhook's own timeout.
func (w *SendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return 2 * WebhookTimeout }

// Work sends one message. A message already delivered or superseded is
// done. A failed send returns the error so River retries it; the last
// failure marks the message failed and wipes its text.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	q := db.New(w.pool)
	row, err := q.SMSOutboxGetQueued(ctx, db.SMSOutboxGetQueuedParams{MerchantID: job.Args.MerchantID, ID: job.Args.MessageID})
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading message %s: %w", job.Args.MessageID, err)
	}
	msg := messageFromRow(row)
	if err := w.sender.Send(ctx, msg); err != nil {
		metrics.From(ctx).SMS(string(msg.Kind), metrics.SMSFailed)
		w.logger.WarnContext(ctx, "sms delivery failed", "message_id", msg.ID, "kind", string(msg.Kind),
			"phone", MaskPhone(msg.Phone), "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err.Error())
		if job.Attempt >= job.MaxAttempts {
			if _, ferr := q.SMSOutboxMarkFailed(context.WithoutCancel(ctx), db.SMSOutboxMarkFailedParams{MerchantID: msg.MerchantID, ID: msg.ID}); ferr != nil {
				return errors.Join(err, ferr)
			}
		}
		return err
	}
	if _, err := q.SMSOutboxMarkDelivered(ctx, db.SMSOutboxMarkDeliveredParams{MerchantID: msg.MerchantID, ID: msg.ID, Now: w.now()}); err != nil {
		return fmt.Errorf("marking message %s delivered: %w", msg.ID, err)
	}
	metrics.From(ctx).SMS(string(msg.Kind), metrics.SMSSent)
	return nil
}

func messageFromRow(r db.SmsOutbox) Message {
	m := Message{ID: r.ID, MerchantID: r.MerchantID, Phone: r.Phone, Kind: Kind(r.Kind), QueuedAt: r.CreatedAt}
	if r.Body != nil {
		m.Body = *r.Body
	}
	return m
}

// Health reports whether messages are waiting longer than they should.
type Health struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewHealth returns the sms health check, reading time from now.
func NewHealth(pool *pgxpool.Pool, now func() time.Time) *Health {
	return &Health{pool: pool, now: now}
}

// Degraded says whether a message queued more than StaleAfter ago has not
// been delivered (still waiting, or given up, within the last day).
func (h *Health) Degraded(ctx context.Context) bool {
	n, err := db.New(h.pool).SMSOutboxCountStale(ctx, db.SMSOutboxCountStaleParams{OlderThanSeconds: StaleAfter.Seconds(), Now: h.now()})
	return err != nil || n > 0
}
