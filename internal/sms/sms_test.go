package sms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/jobs"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/sms"
)

const phone = "+4917698765432"

type bundle struct {
	pool     *pgxpool.Pool
	merchant string
	outbox   *sms.Outbox
	client   *jobs.Client
	clock    *clock.Clock
}

// setup returns an outbox whose jobs a River client delivers through
// sender once started.
func setup(t *testing.T, sender sms.Sender) bundle {
	t.Helper()
	pool := testdb.New(t)
	merchant := ids.New(ids.Merchant)
	_, err := db.New(pool).MerchantInsert(context.Background(), db.MerchantInsertParams{ID: merchant, Name: "Test"})
	require.NoError(t, err)
	clk := clock.New()
	js := jobs.NewSetup()
	river.AddWorker(js.Workers, sms.NewSendWorker(pool, sender, slog.New(slog.NewTextHandler(io.Discard, nil)), clk.Now))
	client, err := jobs.NewClient(pool, js, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return bundle{pool: pool, merchant: merchant, outbox: sms.NewOutbox(client, clk.Now), client: client, clock: clk}
}

func (b bundle) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, b.client.Start(ctx))
	t.Cleanup(func() {
		cancel()
		_ = b.client.Stop(context.Background())
	})
}

func (b bundle) enqueue(t *testing.T, subject, body string) string {
	t.Helper()
	id, err := dbx.InTxWithTx(context.Background(), b.pool, func(ctx context.Context, tx pgx.Tx) (string, error) {
		return b.outbox.Enqueue(ctx, tx, sms.Outgoing{MerchantID: b.merchant, Phone: phone, Kind: sms.KindEnrollmentVerification, SubjectID: subject, Body: body})
	})
	require.NoError(t, err)
	return id
}

func (b bundle) state(t *testing.T, id string) (state string, body *string) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT state, body FROM sms_outbox WHERE id = $1`, id).Scan(&state, &body))
	return state, body
}

// recorder is a sender that keeps what it was given, failing first
// `failures` times.
type recorder struct {
	mu       sync.Mutex
	got      []sms.Message
	failures atomic.Int32
}

func (r *recorder) Send(_ context.Context, m sms.Message) error {
	if r.failures.Add(-1) >= 0 {
		return errors.New("gateway down")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

func (r *recorder) sent() []sms.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sms.Message(nil), r.got...)
}

func TestOutbox(t *testing.T) {
	t.Parallel()

	t.Run("DeliversAfterCommitAndWipesTheText", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		b := setup(t, rec)
		id := b.enqueue(t, "ver_1", "Your code is 123456")
		state, body := b.state(t, id)
		require.Equal(t, "queued", state)
		require.Equal(t, "Your code is 123456", *body)

		b.start(t)
		require.Eventually(t, func() bool { return len(rec.sent()) == 1 }, 10*time.Second, 20*time.Millisecond)
		m := rec.sent()[0]
		require.Equal(t, id, m.ID)
		require.Equal(t, phone, m.Phone)
		require.Equal(t, "Your code is 123456", m.Body)
		require.Equal(t, b.merchant, m.MerchantID)
		require.Eventually(t, func() bool { s, _ := b.state(t, id); return s == "delivered" }, 5*time.Second, 20*time.Millisecond)
		_, body = b.state(t, id)
		require.Nil(t, body, "the code must not stay in the database after delivery")
	})

	t.Run("NothingIsQueuedWhenTheCallerRollsBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &recorder{})
		boom := errors.New("boom")
		_, err := dbx.InTxWithTx(context.Background(), b.pool, func(ctx context.Context, tx pgx.Tx) (string, error) {
			if _, err := b.outbox.Enqueue(ctx, tx, sms.Outgoing{MerchantID: b.merchant, Phone: phone, Kind: sms.KindOTP, SubjectID: "otp_1", Body: "x"}); err != nil {
				return "", err
			}
			return "", boom
		})
		require.ErrorIs(t, err, boom)
		var messages, jobsQueued int
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM sms_outbox`).Scan(&messages))
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'sms_send'`).Scan(&jobsQueued))
		require.Zero(t, messages)
		require.Zero(t, jobsQueued)
	})

	t.Run("ANewerMessageSupersedesAQueuedOne", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		b := setup(t, rec)
		first := b.enqueue(t, "ver_1", "old code 111111")
		second := b.enqueue(t, "ver_1", "new code 222222")
		other := b.enqueue(t, "ver_2", "other subject")
		state, body := b.state(t, first)
		require.Equal(t, "superseded", state)
		require.Nil(t, body)

		b.start(t)
		// Every delivery job has run (the superseded one found nothing to
		// send): what was sent is final.
		require.Eventually(t, func() bool {
			var done int
			require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&done))
			return done == 3
		}, 10*time.Second, 20*time.Millisecond)
		got := map[string]string{}
		for _, m := range rec.sent() {
			got[m.ID] = m.Body
		}
		require.Equal(t, map[string]string{second: "new code 222222", other: "other subject"}, got)
	})

	t.Run("RetriesAFailedSend", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		rec.failures.Store(1)
		b := setup(t, rec)
		id := b.enqueue(t, "ver_1", "hello")
		b.start(t)
		// River's first retry comes about a second later.
		require.Eventually(t, func() bool { return len(rec.sent()) == 1 }, 20*time.Second, 50*time.Millisecond)
		require.Eventually(t, func() bool { s, _ := b.state(t, id); return s == "delivered" }, 5*time.Second, 20*time.Millisecond)
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, &recorder{})
	health := sms.NewHealth(b.pool, b.clock.Now)
	ctx := context.Background()

	id := b.enqueue(t, "ver_1", "hello")
	require.False(t, health.Degraded(ctx), "a message queued just now is not late")

	b.clock.Advance(6 * time.Minute)
	require.True(t, health.Degraded(ctx), "a message waiting for 6 minutes is late")

	_, err := b.pool.Exec(ctx, `UPDATE sms_outbox SET state = 'delivered', body = NULL, delivered_at = now() WHERE id = $1`, id)
	require.NoError(t, err)
	require.False(t, health.Degraded(ctx))
}

func TestSenders(t *testing.T) {
	t.Parallel()
	msg := sms.Message{ID: ids.New(sms.MessagePrefix), MerchantID: "mer_x", Phone: phone, Kind: sms.KindEnrollmentVerification,
		Body: "Your Feddi code is 482915", QueuedAt: time.Now()}

	t.Run("LogSenderLogsAMaskedPhoneAndNeverTheText", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		s := &sms.LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
		require.NoError(t, s.Send(context.Background(), msg))
		out := buf.String()
		require.Contains(t, out, sms.MaskPhone(phone))
		require.NotContains(t, out, phone)
		require.NotContains(t, out, "482915")
	})

	t.Run("WebhookPostsJSONWithTheMessageIdAsIdempotencyKey", func(t *testing.T) {
		t.Parallel()
		var got sms.WebhookPayload
		var key string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key = r.Header.Get("Idempotency-Key")
			_ = json.NewDecoder(r.Body).Decode(&got)
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		require.NoError(t, webhookSender(t, srv.URL).Send(context.Background(), msg))
		require.Equal(t, msg.ID, key)
		require.Equal(t, msg.Body, got.Body)
		require.Equal(t, msg.Phone, got.Phone)
		require.Equal(t, msg.Kind, got.Kind)
	})

	t.Run("WebhookSignatureVerifiesWithTheStandardWebhooksLibrary", func(t *testing.T) {
		t.Parallel()
		receiver, err := standardwebhooks.NewWebhook(webhookSecret)
		require.NoError(t, err)
		impostor, err := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
		require.NoError(t, err)
		var verified, forged error
		var id string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			verified = receiver.Verify(body, r.Header)
			forged = impostor.Verify(body, r.Header)
			id = r.Header.Get("webhook-id")
			// A tampered body must not verify either.
			if receiver.Verify(append(body, ' '), r.Header) == nil {
				forged = nil
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		require.NoError(t, webhookSender(t, srv.URL).Send(context.Background(), msg))
		require.NoError(t, verified, "the receiver verifies the signature with the shared secret")
		require.Error(t, forged, "another secret or another body does not verify")
		require.Equal(t, msg.ID, id)
	})

	t.Run("WebhookFollowsNoRedirect", func(t *testing.T) {
		t.Parallel()
		var stolen atomic.Int32
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			stolen.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(elsewhere.Close)
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/collect", status)
			}))
			err := webhookSender(t, srv.URL).Send(context.Background(), msg)
			srv.Close()
			require.ErrorContains(t, err, strconv.Itoa(status), "a redirect is not a delivery: retried, never followed")
		}
		require.Zero(t, stolen.Load(), "the message never reached the redirect's target")
	})

	t.Run("WebhookFailureIsAnErrorWithoutTheURL", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}))
		t.Cleanup(srv.Close)
		err := webhookSender(t, srv.URL+"/?token=secret").Send(context.Background(), msg)
		require.ErrorContains(t, err, "502")
		require.NotContains(t, err.Error(), "secret")

		srv.Close()
		err = webhookSender(t, srv.URL+"/?token=secret").Send(context.Background(), msg)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret")
	})

	t.Run("WebhookNeedsAStandardWebhooksSecret", func(t *testing.T) {
		t.Parallel()
		for _, secret := range []string{"", "hunter2", "whsec_not-base64!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("too short"))} {
			_, err := sms.NewWebhookSender("https://sms.example/", secret)
			require.Error(t, err, "secret %q", secret)
			if secret != "" {
				require.NotContains(t, err.Error(), secret)
			}
		}
	})

	t.Run("ConfigurationChoosesTheSender", func(t *testing.T) {
		t.Parallel()
		live := config.Defaults()
		live.Env = config.Live
		_, err := sms.NewSender(live, nil, slog.Default())
		require.NoError(t, err, "log is the default")
		live.SMSSender = sms.SenderSandbox
		_, err = sms.NewSender(live, nil, slog.Default())
		require.Error(t, err, "the sandbox sender delivers to nobody in live")
		live.SMSSender = sms.SenderWebhook
		_, err = sms.NewSender(live, nil, slog.Default())
		require.Error(t, err, "webhook needs a URL")
		live.SMSWebhookURL = "https://sms.example/send"
		_, err = sms.NewSender(live, nil, slog.Default())
		require.Error(t, err, "webhook needs a secret")
		live.SMSWebhookSecret = webhookSecret
		s, err := sms.NewSender(live, nil, slog.Default())
		require.NoError(t, err)
		require.IsType(t, &sms.WebhookSender{}, s)
		live.SMSSender = "carrier-pigeon"
		_, err = sms.NewSender(live, nil, slog.Default())
		require.Error(t, err)
	})

	t.Run("LiveRefusesAnHTTPWebhook", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		cfg.Env = config.Live
		cfg.SMSSender, cfg.SMSWebhookSecret = sms.SenderWebhook, webhookSecret
		for _, u := range []string{"http://sms.example/send", "HTTP://sms.example/send", "ftp://sms.example/"} {
			cfg.SMSWebhookURL = u
			_, err := sms.NewSender(cfg, nil, slog.Default())
			require.ErrorContains(t, err, "https", "live refuses %s", u)
		}
		sandbox := cfg
		sandbox.Env = config.Sandbox
		sandbox.SMSWebhookURL = "http://127.0.0.1:1/"
		_, err := sms.NewSender(sandbox, nil, slog.Default())
		require.NoError(t, err, "a sandbox may post to a local bridge over http")
	})
}

// webhookSecret is a Standard Webhooks secret for the tests.
var webhookSecret = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))

func webhookSender(t *testing.T, url string) *sms.WebhookSender {
	t.Helper()
	s, err := sms.NewWebhookSender(url, webhookSecret)
	require.NoError(t, err)
	return s
}

func TestSandboxInbox(t *testing.T) {
	t.Parallel()
	b := setup(t, &recorder{})
	ctx := context.Background()
	sandbox := sms.NewSandboxSender(b.pool)
	var sent []string
	for i := range 5 {
		m := sms.Message{ID: ids.New(sms.MessagePrefix), MerchantID: b.merchant, Phone: phone, Kind: sms.KindOTP, Body: "code " + string(rune('A'+i)), QueuedAt: time.Now()}
		require.NoError(t, sandbox.Send(ctx, m))
		require.NoError(t, sandbox.Send(ctx, m), "a retried delivery is kept once")
		sent = append(sent, m.ID)
	}
	inbox := sms.NewInbox(b.pool, config.Sandbox)

	t.Run("PagesNewestFirst", func(t *testing.T) {
		t.Parallel()
		var got []string
		cursor := ""
		for {
			page, err := inbox.List(ctx, b.merchant, phone, 2, cursor)
			require.NoError(t, err)
			for _, m := range page.Items {
				got = append(got, m.ID)
				require.NotNil(t, m.DeliveredAt)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		require.Equal(t, []string{sent[4], sent[3], sent[2], sent[1], sent[0]}, got)
	})

	t.Run("OtherMerchantsAndPhonesSeeNothing", func(t *testing.T) {
		t.Parallel()
		page, err := inbox.List(ctx, ids.New(ids.Merchant), phone, 10, "")
		require.NoError(t, err)
		require.Empty(t, page.Items)
		page, err = inbox.List(ctx, b.merchant, "+4915100000000", 10, "")
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("RefusesATamperedCursorOrOneOfAnotherListing", func(t *testing.T) {
		t.Parallel()
		page, err := inbox.List(ctx, b.merchant, phone, 2, "")
		require.NoError(t, err)
		_, err = inbox.List(ctx, b.merchant, "+4915100000000", 2, page.NextCursor)
		require.ErrorIs(t, err, sms.ErrInvalidCursor)
		_, err = inbox.List(ctx, b.merchant, phone, 2, page.NextCursor+"x")
		require.ErrorIs(t, err, sms.ErrInvalidCursor)
		_, err = inbox.List(ctx, b.merchant, phone, 2, "not-a-cursor")
		require.ErrorIs(t, err, sms.ErrInvalidCursor)
	})

	t.Run("IsClosedInLive", func(t *testing.T) {
		t.Parallel()
		_, err := sms.NewInbox(b.pool, config.Live).List(ctx, b.merchant, phone, 10, "")
		require.ErrorIs(t, err, sms.ErrSandboxOnly)
	})
}

func TestPurge(t *testing.T) {
	t.Parallel()
	b := setup(t, &recorder{})
	ctx := context.Background()
	sandbox := sms.NewSandboxSender(b.pool)
	queued := b.enqueue(t, "ver_1", "waiting")
	oldDelivered := b.enqueue(t, "ver_2", "gone")
	require.NoError(t, sandbox.Send(ctx, sms.Message{ID: oldDelivered, MerchantID: b.merchant, Phone: phone, Kind: sms.KindOTP, Body: "x", QueuedAt: b.clock.Now()}))
	b.clock.Advance(8 * 24 * time.Hour)
	recent := b.enqueue(t, "ver_3", "recent")
	require.NoError(t, sandbox.Send(ctx, sms.Message{ID: recent, MerchantID: b.merchant, Phone: phone, Kind: sms.KindOTP, Body: "y", QueuedAt: b.clock.Now()}))
	_, err := b.pool.Exec(ctx, `UPDATE sms_outbox SET state = 'delivered', body = NULL, delivered_at = now() WHERE id IN ($1, $2)`, oldDelivered, recent)
	require.NoError(t, err)

	require.NoError(t, (&sms.PurgeWorker{Pool: b.pool, Now: b.clock.Now}).Work(ctx, &river.Job[sms.PurgeArgs]{}))
	var left []string
	rows, err := b.pool.Query(ctx, `SELECT id FROM sms_outbox UNION ALL SELECT id FROM sandbox_messages ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.ElementsMatch(t, []string{queued, recent, recent}, left, "a message still waiting is kept whatever its age")
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	require.Equal(t, "+49*******5432", sms.MaskPhone("+4917698765432"))
	require.Equal(t, "+12*4567", sms.MaskPhone("+1234567"))
	require.Equal(t, "****", sms.MaskPhone("+123"))
}
