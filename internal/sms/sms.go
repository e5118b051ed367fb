// Package sms sends the text messages of the service (enrollment codes,
// payment one-time codes) through a transactional outbox: Enqueue writes the
// message and the River job that delivers it in the caller's transaction, and
// SendWorker hands it to the configured Sender with River's retries. Codes
// stay in the database only while a message waits, and never reach a log.
//
// API for other packages:
//
//	Outbox.Enqueue(ctx, tx, Outgoing{MerchantID, IntegrationID, Phone, Kind, SubjectID, Body}) (messageID, error)
//	    in the caller's transaction tx (dbx.InTxWithTx), counted against the SMS
//	    caps of CappedBy; a newer message for the same SubjectID (a verification
//	    or OTP challenge id) supersedes a queued one
//	MaskPhone(phone) string  +49*******5432, for logs and answers
//	KindEnrollmentVerification, KindOTP  the message kinds
//
// Wiring (internal/app): NewOutbox(inserter, now).CappedBy(limiter), the one
// outbox; NewSender(cfg, pool, logger); river.AddWorker(setup.Workers,
// NewSendWorker(pool, sender, logger, now)); PurgeWorker and PurgeJob, the
// retention sweep; NewHealth(pool, now).Degraded for /health; NewInbox(pool, env)
// for GET /sandbox/messages.
package sms

import (
	"context"
	"strings"
	"time"
)

// Kind says what a message carries; the sandbox listing shows it.
type Kind string

// The kinds of the contract (SandboxMessageKind).
const (
	KindEnrollmentVerification Kind = "enrollment_verification"
	KindOTP                    Kind = "otp"
)

// Message is one SMS as a Sender receives it.
type Message struct {
	ID         string
	MerchantID string
	Phone      string
	Kind       Kind
	Body       string
	QueuedAt   time.Time
}

// Sender delivers a message. An error means "not delivered, try again":
// the dispatcher retries with backoff. Implementations must never log Body
// or the full phone number.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// MaskPhone hides the middle of a phone number for logs and answers:
// +4917698765432 becomes +49*******5432.
func MaskPhone(phone string) string {
	const head, tail = 3, 4
	if len(phone) <= head+tail {
		return strings.Repeat("*", len(phone))
	}
	return phone[:head] + strings.Repeat("*", len(phone)-head-tail) + phone[len(phone)-tail:]
}
