package webhooks

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
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// DeliveryArgs is the job of one event for one endpoint. event_record
// (00017_merchant_keys.sql) inserts it with the event, in the event's
// transaction.
type DeliveryArgs struct {
	MerchantID string `json:"merchant_id"`
	EndpointID string `json:"endpoint_id"`
	EventID    string `json:"event_id"`
}

// Kind is the River job kind, as event_record writes it.
func (DeliveryArgs) Kind() string { return "webhook_delivery" }

// DeliveryWorker posts an event to an endpoint, Standard Webhooks style,
// and records the attempt. A 2xx is success; anything else, a redirect
// included, is retried (RetryWait) for RetryWindow. An endpoint failing
// for RetryWindow is disabled; its events stay readable at GET /events.
type DeliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	Pool   *pgxpool.Pool
	Events *events.Service
	Sealer Sealer
	// Client posts; Guard.Client refuses internal addresses at connect time.
	Client *http.Client
	// Now is the service clock: attempts' times and the endpoint's failing
	// time. The signature's timestamp and River's retry schedule read the
	// wall clock (the receiver checks the timestamp against its own).
	Now       func() time.Time
	RetryBase time.Duration
	Logger    *slog.Logger
}

// Timeout leaves the attempt its own Timeout and the bookkeeping a little.
func (w *DeliveryWorker) Timeout(*river.Job[DeliveryArgs]) time.Duration {
	return Timeout + 5*time.Second
}

// NextRetry schedules the next attempt (wall clock: River's schedule).
func (w *DeliveryWorker) NextRetry(job *river.Job[DeliveryArgs]) time.Time {
	return time.Now().Add(RetryWait(job.Attempt, w.RetryBase))
}

// Payload is the body an endpoint receives: the event as GET /events/{id}
// returns it.
type Payload struct {
	ID         string          `json:"id"`
	Type       events.Type     `json:"type"`
	APIVersion string          `json:"api_version"`
	CreatedAt  time.Time       `json:"created_at"`
	Data       json.RawMessage `json:"data"`
}

// Work delivers once.
func (w *DeliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	q := db.New(w.Pool)
	ep, err := q.WebhookEndpointGetForDelivery(ctx, db.WebhookEndpointGetForDeliveryParams{MerchantID: job.Args.MerchantID, ID: job.Args.EndpointID})
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if Status(ep.Status) != StatusEnabled {
		return nil // deleted or disabled meanwhile: nothing more goes out
	}
	ev, err := w.Events.Get(ctx, ep.MerchantID, ep.IntegrationID, job.Args.EventID)
	if errors.Is(err, events.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	body, err := json.Marshal(Payload{ID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, CreatedAt: ev.CreatedAt, Data: ev.Data})
	if err != nil {
		return err
	}
	keys, err := w.keys(ep)
	if err != nil {
		return err
	}
	status, latency, sendErr := w.post(ctx, ep.Url, ev.ID, keys, body)
	now := w.Now()
	rec := db.WebhookDeliveryInsertParams{
		ID: ids.New(ids.WebhookDelivery), MerchantID: ep.MerchantID, EndpointID: ep.ID, EventID: ev.ID, Attempt: int32(job.Attempt),
		LatencyMs: int32(latency.Milliseconds()), Succeeded: sendErr == nil, AttemptedAt: now.UTC(),
	}
	if status != 0 {
		c := int32(status)
		rec.StatusCode = &c
	}
	if sendErr != nil {
		msg := sendErr.Error()
		rec.Error = &msg
	}
	// The attempt and what it does to the endpoint (failing since, disabled)
	// commit together: no reader sees one without the other.
	state, err := dbx.InTxValue(ctx, w.Pool, func(ctx context.Context, q *db.Queries) (string, error) {
		if err := q.WebhookDeliveryInsert(ctx, rec); err != nil {
			return "", fmt.Errorf("recording a delivery to %s: %w", ep.ID, err)
		}
		if sendErr == nil {
			return string(StatusEnabled), q.WebhookEndpointSucceeded(ctx, db.WebhookEndpointSucceededParams{MerchantID: ep.MerchantID, ID: ep.ID})
		}
		state, err := q.WebhookEndpointFailed(ctx, db.WebhookEndpointFailedParams{MerchantID: ep.MerchantID, ID: ep.ID, Now: now, DisableBefore: now.Add(-RetryWindow)})
		if err != nil {
			return "", fmt.Errorf("recording a failed delivery to %s: %w", ep.ID, err)
		}
		return state, nil
	})
	if err != nil || sendErr == nil {
		return err
	}
	if Status(state) == StatusDisabled {
		w.logger().WarnContext(ctx, "webhook endpoint disabled after failing for the retry window", "endpoint_id", ep.ID)
		return nil // given up: the event stays readable at GET /events
	}
	if time.Since(job.CreatedAt) > RetryWindow {
		return river.JobCancel(sendErr)
	}
	return sendErr
}

func (w *DeliveryWorker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// keys are the endpoint's signing keys: the current secret's, and the
// previous one's during its rotation overlap.
func (w *DeliveryWorker) keys(ep db.WebhookEndpoint) ([][]byte, error) {
	secrets := [][]byte{ep.SecretSealed}
	if ep.PreviousSecretSealed != nil && ep.PreviousSecretExpiresAt != nil && w.Now().Before(*ep.PreviousSecretExpiresAt) {
		secrets = append(secrets, ep.PreviousSecretSealed)
	}
	keys := make([][]byte, 0, len(secrets))
	for _, sealed := range secrets {
		secret, err := w.Sealer.Open(ep.ID, sealed)
		if err != nil {
			return nil, fmt.Errorf("opening the secret of %s: %w", ep.ID, err)
		}
		key, err := SecretKey(string(secret))
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// post sends one attempt and says what came back; errors never carry the
// URL (it may hold a credential).
func (w *DeliveryWorker) post(ctx context.Context, endpoint, msgID string, keys [][]byte, body []byte) (int, time.Duration, error) {
	at := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, 0, errors.New("the endpoint URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Feddi-Webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", Signature(keys, msgID, at, body))
	res, err := w.Client.Do(req)
	latency := time.Since(at)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return 0, latency, fmt.Errorf("posting: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, latency, fmt.Errorf("answered %d (redirects are not followed)", res.StatusCode)
	}
	return res.StatusCode, latency, nil
}
