package sms

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

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
		// Codes travel in the body: in live they never cross the network
		// in clear, whatever the gateway's own setup.
		if cfg.Env == config.Live && !strings.HasPrefix(strings.ToLower(cfg.SMSWebhookURL), "https://") {
			return nil, fmt.Errorf("FEDDI_SMS_WEBHOOK_URL must be an https URL in live")
		}
		w, err := NewWebhookSender(cfg.SMSWebhookURL, cfg.SMSWebhookSecret)
		if err != nil {
			return nil, err
		}
		s = w
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
// The message id travels as Idempotency-Key and as webhook-id so the
// receiver can drop the duplicates a retry after a lost answer produces.
//
// Each request is signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature: "v1," + base64 HMAC-SHA256 of
// "id.timestamp.body" under FEDDI_SMS_WEBHOOK_SECRET), so the gateway can
// refuse a forged or replayed request: the body carries codes that pay and
// enroll, and whoever can post to the gateway could otherwise send any text
// in Feddi's name. Redirects are never followed: a 3xx is an answer like
// any other non-2xx, so a compromised or misconfigured gateway cannot bounce
// codes to a host nobody configured.
type WebhookSender struct {
	url    string
	signer *standardwebhooks.Webhook
	client *http.Client
	now    func() time.Time
}

// webhookSecretPrefix starts a Standard Webhooks secret; the rest is base64.
const webhookSecretPrefix = "whsec_"

// minWebhookSecretBytes is the shortest secret Standard Webhooks allows.
const minWebhookSecretBytes = 24

// NewWebhookSender returns a sender posting to url (http or https; live
// asks for https in NewSender), signing with secret ("whsec_" + base64 of
// 24 to 64 random bytes), each attempt bounded by WebhookTimeout. Neither
// value appears in an error.
func NewWebhookSender(rawURL, secret string) (*WebhookSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("FEDDI_SMS_WEBHOOK_URL must be an absolute http or https URL")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	if !strings.HasPrefix(secret, webhookSecretPrefix) || err != nil || len(key) < minWebhookSecretBytes || len(key) > 64 {
		return nil, errors.New("FEDDI_SMS_WEBHOOK_SECRET must be whsec_ followed by 24 to 64 random bytes in base64 (echo whsec_$(openssl rand -base64 32))")
	}
	signer, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		return nil, fmt.Errorf("preparing the SMS webhook signer: %w", err)
	}
	return &WebhookSender{
		url:    rawURL,
		signer: signer,
		client: &http.Client{
			Timeout:       WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		// The wall clock, not the service clock: the receiver checks the
		// signature's timestamp against its own.
		now: time.Now,
	}, nil
}

// WebhookPayload is the JSON body the webhook receives.
type WebhookPayload struct {
	ID       string    `json:"id"`
	Phone    string    `json:"phone"`
	Kind     Kind      `json:"kind"`
	Body     string    `json:"body"`
	QueuedAt time.Time `json:"queued_at"`
}

// Send posts the message, signed at the moment of the attempt (a retry
// carries a fresh timestamp, so the receiver's 5-minute tolerance holds).
// Errors name the status, never the URL's query or the message (they may
// hold secrets).
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	raw, err := json.Marshal(WebhookPayload{ID: m.ID, Phone: m.Phone, Kind: m.Kind, Body: m.Body, QueuedAt: m.QueuedAt.UTC()})
	if err != nil {
		return err
	}
	at := w.now()
	signature, err := w.signer.Sign(m.ID, at, raw)
	if err != nil {
		return fmt.Errorf("signing message %s for the SMS webhook: %w", m.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("building SMS webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookID, m.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, signature)
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
		return fmt.Errorf("SMS webhook answered %d for message %s (redirects are not followed)", res.StatusCode, m.ID)
	}
	return nil
}
