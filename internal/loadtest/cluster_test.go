package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/loadtest"
	"github.com/feddi/partner-api/internal/moneytest"
)

// TestClusterKeepsEveryKeyOnce runs against `make cluster` (make
// test-cluster): three replicas behind PgBouncer and HAProxy. Clients pay,
// top up and enroll through HAProxy, retrying transport failures and 5xx
// with the same Idempotency-Key, while one replica is killed with SIGKILL
// and another stopped with SIGTERM, each then started again. Afterwards
// every key took effect exactly once, the ledger invariants hold, the
// periodic sweepers never ran twice at once, and every answer a client got
// was the API's typed envelope (HAProxy's own errors included).
func TestClusterKeepsEveryKeyOnce(t *testing.T) {
	base := os.Getenv("FEDDI_TEST_CLUSTER_URL")
	if base == "" {
		t.Skip("FEDDI_TEST_CLUSTER_URL is not set: make test-cluster runs this against make cluster")
	}
	load := 40 * time.Second
	if v := os.Getenv("FEDDI_TEST_CLUSTER_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		load = d
	}
	ctx := context.Background()
	direct := os.Getenv("DATABASE_URL")
	require.NotEmpty(t, direct, "DATABASE_URL: the cluster's database, directly")
	pool, err := pgxpool.New(ctx, direct)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	boot, err := loadtest.Feddi{Bin: "../../bin/feddi", DatabaseURL: direct, Log: os.Stderr}.Bootstrap(ctx)
	require.NoError(t, err)
	run := fmt.Sprintf("cl%d", time.Now().UnixNano())
	const workers = 12
	// A wallet per worker: two mints for one wallet retire the older QR.
	fx, err := loadtest.Setup(ctx, loadtest.NewAPI(base, run+"-setup", 8), boot.APIKey, workers, 3)
	require.NoError(t, err)

	c := &retryingClient{base: base, hc: &http.Client{Timeout: 30 * time.Second}, retriedOn: map[string]int{}}
	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		topups  []string // settlement references
		pays    []string // payment references
		enrolls []string // phones
		failed  []string
		seq     atomic.Int64
	)
	stop := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("%s-%d", run, seq.Add(1))
				wallet := fx.Wallets[w].ID
				var err error
				switch rng.IntN(3) {
				case 0:
					err = c.topup(ctx, fx.Till, key, wallet)
					mu.Lock()
					topups = append(topups, "settle-"+key)
				case 1:
					err = c.pay(ctx, fx, key, wallet)
					mu.Lock()
					pays = append(pays, key)
				default:
					phone := fmt.Sprintf("+4917%09d", start.Unix()%1000*1000000+seq.Add(1))
					err = c.enroll(ctx, fx.Till, key, phone)
					mu.Lock()
					enrolls = append(enrolls, phone)
				}
				if err != nil {
					failed = append(failed, err.Error())
				}
				mu.Unlock()
			}
		})
	}

	// The chaos, a quarter and a half into the load.
	cluster := func(args ...string) {
		out, err := exec.CommandContext(ctx, "bash", append([]string{"../../deploy/cluster.sh"}, args...)...).CombinedOutput()
		if err != nil {
			t.Errorf("deploy/cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	time.Sleep(load / 4)
	cluster("replica", "1", "kill")
	time.Sleep(2 * time.Second)
	cluster("replica", "1", "start")
	time.Sleep(time.Until(start.Add(load / 2)))
	cluster("replica", "2", "stop")
	time.Sleep(2 * time.Second)
	cluster("replica", "2", "start")
	time.Sleep(time.Until(start.Add(load)))
	close(stop)
	wg.Wait()
	t.Logf("%d top-ups, %d payments, %d enrollments in %s; %d attempts, %d retried (%d transport errors, %d 5xx), answers not typed: %d",
		len(topups), len(pays), len(enrolls), time.Since(start).Round(time.Second),
		c.attempts.Load(), c.retries.Load(), c.transport.Load(), c.status5xx.Load(), len(c.untyped))
	t.Logf("5xx answers retried: %v", c.retriedOn)

	t.Run("EveryClientGotATypedEnvelope", func(t *testing.T) {
		require.Empty(t, c.untyped)
	})
	t.Run("EveryKeyFinished", func(t *testing.T) {
		require.Empty(t, failed)
		require.NotEmpty(t, topups)
		require.NotEmpty(t, pays)
		require.NotEmpty(t, enrolls)
	})
	t.Run("EveryKeyTookEffectOnce", func(t *testing.T) {
		require.Equal(t, map[int]int{1: len(topups)}, countEach(t, ctx, pool,
			`SELECT count(*) FROM ledger_transactions WHERE type = 'topup' AND settlement_reference = ANY($1) GROUP BY settlement_reference`, topups),
			"top-up ledger transactions per key")
		require.Equal(t, map[int]int{1: len(pays)}, countEach(t, ctx, pool,
			`SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.merchant_id = t.merchant_id AND p.id = t.payment_id
			 WHERE t.type = 'payment' AND p.reference = ANY($1) GROUP BY p.merchant_id, p.reference`, pays),
			"payment ledger transactions per key (captured automatically)")
		require.Equal(t, map[int]int{1: len(enrolls)}, countEach(t, ctx, pool,
			`SELECT count(*) FROM sms_outbox WHERE kind = 'enrollment_verification' AND phone = ANY($1) AND merchant_id = '`+boot.MerchantID+`' GROUP BY phone`, enrolls),
			"enrollment SMS per key")
	})
	t.Run("LedgerInvariantsHold", func(t *testing.T) {
		moneytest.CheckLedger(t, pool)
	})
	// River enqueues periodic jobs on its elected leader only, every
	// interval (2 s here): two replicas sweeping at once would enqueue
	// twice as many. Any client works a job, each once.
	t.Run("SweepersRanOneAtATime", func(t *testing.T) {
		end := time.Now()
		limit := int(end.Sub(start)/(2*time.Second)) + 3 // the first run on start, one per new leader
		rows, err := pool.Query(ctx, `
			SELECT kind, count(*), count(DISTINCT attempted_by[array_upper(attempted_by, 1)]), max(attempt)
			FROM river_job
			WHERE kind IN ('promo_expiry_sweep', 'payment_authorization_expiry') AND created_at BETWEEN $1 AND $2
			GROUP BY kind`, start, end)
		require.NoError(t, err)
		defer rows.Close()
		kinds := 0
		for rows.Next() {
			var kind string
			var runs, clients, attempts int
			require.NoError(t, rows.Scan(&kind, &runs, &clients, &attempts))
			t.Logf("%s: %d runs enqueued in %s, worked by %d River clients", kind, runs, end.Sub(start).Round(time.Second), clients)
			require.LessOrEqual(t, runs, limit, "%s enqueued more often than one leader would", kind)
			require.Positive(t, runs)
			kinds++
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 2, kinds, "both sweepers ran during the load: else the check proves nothing")
		var leaders int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_leader`).Scan(&leaders))
		require.LessOrEqual(t, leaders, 1, "one elected leader")
	})
}

// retryingClient is a till that retries a call with the same
// Idempotency-Key when the transport fails or the answer is a 5xx, and
// records every answer that is not a typed envelope.
type retryingClient struct {
	base string
	hc   *http.Client

	attempts, retries, transport, status5xx atomic.Int64
	mu                                      sync.Mutex
	untyped                                 []string
	retriedOn                               map[string]int // "503 service_unavailable": count
}

// retryFor is how long a client keeps retrying one key: a replica that is
// killed comes back within seconds, but the machine may be busy.
const retryFor = 90 * time.Second

func (c *retryingClient) call(ctx context.Context, auth client.RequestEditorFn, build func() (*http.Request, error)) (json.RawMessage, error) {
	var last string
	deadline := time.Now().Add(retryFor)
	for attempt := 0; attempt == 0 || time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			c.retries.Add(1)
			time.Sleep(time.Duration(min(attempt, 10)) * 100 * time.Millisecond)
		}
		c.attempts.Add(1)
		req, err := build()
		if err != nil {
			return nil, err
		}
		if err := auth(ctx, req); err != nil {
			return nil, err
		}
		res, err := c.hc.Do(req.WithContext(ctx))
		if err != nil {
			c.transport.Add(1)
			last = err.Error()
			continue
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			c.transport.Add(1)
			last = err.Error()
			continue
		}
		data, code, typed := typedEnvelope(res.StatusCode, res.Header.Get("Content-Type"), body)
		if !typed {
			c.mu.Lock()
			c.untyped = append(c.untyped, fmt.Sprintf("%s %s: %d %.200s", req.Method, req.URL.Path, res.StatusCode, body))
			c.mu.Unlock()
		}
		switch {
		case res.StatusCode >= 500:
			c.status5xx.Add(1)
			last = fmt.Sprintf("%d %s", res.StatusCode, code)
			c.mu.Lock()
			c.retriedOn[last]++
			c.mu.Unlock()
			continue
		case code == "idempotency_in_progress": // the first attempt still runs on a replica
			last = code
			continue
		case res.StatusCode >= 300:
			return nil, fmt.Errorf("%s %s: %d %s: %.200s", req.Method, req.URL.Path, res.StatusCode, code, body)
		}
		return data, nil
	}
	return nil, fmt.Errorf("gave up after %s: %s", retryFor, last)
}

// typedEnvelope reads an answer as the API's envelope: JSON, ok agreeing
// with the status, an error code on failures.
func typedEnvelope(status int, contentType string, body []byte) (json.RawMessage, string, bool) {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return nil, "", false
	}
	var env struct {
		OK    *bool           `json:"ok"`
		Data  json.RawMessage `json:"data"`
		Error *struct {
			Code      string `json:"code"`
			Retryable *bool  `json:"retryable"`
		} `json:"error"`
		Meta *struct {
			RequestID string `json:"request_id"`
		} `json:"meta"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil || env.OK == nil || env.Meta == nil || !strings.HasPrefix(env.Meta.RequestID, "req_") {
		return nil, "", false
	}
	if *env.OK {
		return env.Data, "", status < 300
	}
	if env.Error == nil || env.Error.Code == "" || env.Error.Retryable == nil || status < 400 {
		return nil, "", false
	}
	return nil, env.Error.Code, true
}

var meta = client.RequestMeta{ApiVersion: "2026-06-01"}

func (c *retryingClient) topup(ctx context.Context, till client.RequestEditorFn, key, wallet string) error {
	_, err := c.call(ctx, till, func() (*http.Request, error) {
		return client.NewConfirmTopupRequest(c.base, &client.ConfirmTopupParams{IdempotencyKey: key}, client.ConfirmTopupInput{
			Meta: meta, Data: client.ConfirmTopupInputData{WalletId: wallet, AmountMinor: 500, Currency: "EUR", Provider: "adyen", SettlementReference: "settle-" + key},
		})
	})
	return err
}

func (c *retryingClient) pay(ctx context.Context, fx *loadtest.Fixture, key, wallet string) error {
	payload, err := mintQr(key, func(mintKey string) (json.RawMessage, error) {
		return c.call(ctx, fx.WalletApp, func() (*http.Request, error) {
			return client.NewMintQrRequest(c.base, &client.MintQrParams{IdempotencyKey: mintKey},
				client.MintQrInput{Meta: meta, Data: client.MintQrInputData{WalletId: wallet}})
		})
	})
	if err != nil {
		return err
	}
	capture := client.CaptureModeAutomatic
	ref := key
	_, err = c.call(ctx, fx.Till, func() (*http.Request, error) {
		return client.NewCreatePaymentRequest(c.base, &client.CreatePaymentParams{IdempotencyKey: key}, client.CreatePaymentInput{
			Meta: meta, Data: client.CreatePaymentInputData{
				AmountMinor: 100, Currency: "EUR", Capture: &capture, Reference: &ref,
				Credential: client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: &payload},
			},
		})
	})
	return err
}

// mintQr mints a QR payload to pay with under keys derived from key. A
// mint whose answer was lost (a replica or worker went away after its
// commit) replays without its codes, which are never stored; as the API
// says, it mints again under a new key.
func mintQr(key string, mint func(mintKey string) (json.RawMessage, error)) (string, error) {
	for n := range 3 {
		minted, err := mint(fmt.Sprintf("%s-qr%d", key, n))
		if err != nil {
			return "", err
		}
		var qr client.MintedQr
		if err := json.Unmarshal(minted, &qr); err != nil {
			return "", fmt.Errorf("reading a minted QR: %w", err)
		}
		switch {
		case qr.QrPayload != nil:
			return *qr.QrPayload, nil
		case !qr.SecretRedacted:
			return "", errors.New("a minted QR without its payload, not a replay")
		}
	}
	return "", errors.New("three mints replayed without their payload")
}

func (c *retryingClient) enroll(ctx context.Context, till client.RequestEditorFn, key, phone string) error {
	_, err := c.call(ctx, till, func() (*http.Request, error) {
		return client.NewInitiateEnrollmentRequest(c.base, &client.InitiateEnrollmentParams{IdempotencyKey: key},
			client.InitiateEnrollmentInput{Meta: meta, Data: client.InitiateEnrollmentInputData{Phone: phone}})
	})
	return err
}

// TestTypedEnvelopeRefusesHAProxyPages: the cluster test's envelope check
// catches what a load balancer left to its defaults answers (HAProxy's own
// HTML pages, a bare 502) and accepts the typed envelope deploy/cluster.sh
// configures in their place.
func TestTypedEnvelopeRefusesHAProxyPages(t *testing.T) {
	for _, bad := range []struct {
		status      int
		contentType string
		body        string
	}{
		{503, "text/html", "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"},
		{502, "text/html", "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"},
		{502, "", ""},
		{503, "application/json", `{"message":"no healthy upstream"}`},
		{503, "application/json", `{"ok":false,"data":null,"error":{"code":"","message":"x","retryable":true},"meta":{"request_id":"req_1"}}`},
		{200, "application/json", `{"ok":false,"data":null,"error":{"code":"internal_error","retryable":true},"meta":{"request_id":"req_1"}}`},
	} {
		_, _, typed := typedEnvelope(bad.status, bad.contentType, []byte(bad.body))
		require.False(t, typed, "%d %s %q passed as a typed envelope", bad.status, bad.contentType, bad.body)
	}
	lb := `{"ok":false,"data":null,"error":{"code":"service_unavailable","message":"No replica is available; retry with the same Idempotency-Key.","retryable":true,"field":null,"details":null},"meta":{"api_version":"2026-06-01","request_id":"req_lb_7edb93ea-5d63-4ba6-a28b-ace91d67811f","idempotency_key":null,"idempotent_replay":false}}`
	_, code, typed := typedEnvelope(503, "application/json", []byte(lb))
	require.True(t, typed)
	require.Equal(t, "service_unavailable", code)
}
