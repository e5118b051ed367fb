package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/config"
)

// The sender names FEDDI_SMS_SENDER accepts.
const (
	SenderLog     = "log"
	SenderSandbox = "sandbox"
	SenderWebhook = "webhook"
)

// WebhookTimeout bounds one delivery attempt to the webhook.
const WebhookTimeout = 10 * time.Second

// NewSender returns the sender the configuration names. In the sandbox
// environment whatever is delivered is also kept for GET /sandbox/messages,
// so contract tests can read codes back whichever sender is configured; in
// live nothing is kept, and the sandbox sender is refused.
func NewSender(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) (Sender, error) {
	var s Sender
	switch cfg.SMSSender {
	case SenderLog, "":
		s = &LogSender{Logger: logger}
	case SenderSandbox:
		if cfg.Env != config.Sandbox {
			return nil, fmt.Errorf("FEDDI_SMS_SENDER=sandbox delivers to nobody: it is only for FEDDI_ENV=sandbox")
		}
		return &SandboxSender{pool: pool}, nil
	case SenderWebhook:
		if cfg.SMSWebhookURL == "" {
			return nil, fmt.Errorf("FEDDI_SMS_SENDER=webhook needs FEDDI_SMS_WEBHOOK_URL")
		}
		s = NewWebhookSender(cfg.SMSWebhookURL)
	default:
		return nil, fmt.Errorf("FEDDI_SMS_SENDER must be log, sandbox or webhook, got %q", cfg.SMSSender)
	}
	if cfg.Env == config.Sandbox {
		s = both{s, &SandboxSender{pool: pool}}
	}
	return s, nil
}

// LogSender "delivers" by logging that a message left: masked phone, kind
// and id, never the text.
type LogSender struct{ Logger *slog.Logger }

// Send logs the message's envelope.
func (l *LogSender) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "sms delivered (log sender; text withheld)",
		"message_id", m.ID, "kind", string(m.Kind), "phone", MaskPhone(m.Phone))
	return nil
}

// SandboxSender keeps messages in sandbox_messages, where
// GET /sandbox/messages reads them back.
type SandboxSender struct{ pool *pgxpool.Pool }

// NewSandboxSender returns a sender that keeps messages for read-back.
func NewSandboxSender(pool *pgxpool.Pool) *SandboxSender { return &SandboxSender{pool: pool} }

// Send stores the message once, however often delivery is retried.
func (s *SandboxSender) Send(ctx context.Context, m Message) error {
	err := db.New(s.pool).SandboxMessageInsert(ctx, db.SandboxMessageInsertParams{
		ID: m.ID, MerchantID: m.MerchantID, Phone: m.Phone, Kind: string(m.Kind), Body: m.Body, CreatedAt: m.QueuedAt,
	})
	if err != nil {
		return fmt.Errorf("keeping sandbox message %s: %w", m.ID, err)
	}
	return nil
}

// both delivers through a real sender, then keeps a sandbox copy.
type both struct{ primary, sandbox Sender }

func (b both) Send(ctx context.Context, m Message) error {
	if err := b.primary.Send(ctx, m); err != nil {
		return err
	}
	return b.sandbox.Send(ctx, m)
}

// WebhookSender POSTs each message as JSON to a URL (an SMS gateway or a
// bridge to one). Any 2xx answer is a delivery; anything else is retried.
// The message id travels as Idempotency-Key so the receiver can drop the
// duplicates a retry after a lost answer produces.
type WebhookSender struct {
	url    string
	client *http.Client
}

// NewWebhookSender returns a sender posting to url, each attempt bounded by
// WebhookTimeout.
func NewWebhookSender(url string) *WebhookSender {
	return &WebhookSender{url: url, client: &http.Client{Timeout: WebhookTimeout}}
}

// WebhookPayload is the JSON body the webhook receives.
type WebhookPayload struct {
	ID       string    `json:"id"`
	Phone    string    `json:"phone"`
	Kind     Kind      `json:"kind"`
	Body     string    `json:"body"`
	QueuedAt time.Time `json:"queued_at"`
}

// Send posts the message. Errors name the status, never the URL's query or
// the message (they may hold secrets).
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	raw, err := json.Marshal(WebhookPayload{ID: m.ID, Phone: m.Phone, Kind: m.Kind, Body: m.Body, QueuedAt: m.QueuedAt.UTC()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("building SMS webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	res, err := w.client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // without the URL, which may carry a credential
		}
		return fmt.Errorf("posting message %s to the SMS webhook: %w", m.ID, err)
	}
	defer func() { _ = res.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("SMS webhook answered %d for message %s", res.StatusCode, m.ID)
	}
	return nil
}
