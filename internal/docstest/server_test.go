package docstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/app/apptest"
)

// docServer is a fresh sandbox server with a bootstrapped merchant, as
// `make run` leaves one, for one document's examples.
type docServer struct {
	t   *testing.T
	s   *apptest.Server
	url string
	key string // the bootstrap key: role operator, every scope but qr:mint
}

// startDocServer starts the service on a fresh database with its jobs
// running (the SMS outbox delivers to the sandbox inbox). A reader who
// enrolls and then reads the inbox waits the moment delivery takes; the
// runner cannot see a person pause, so a read of the inbox waits until the
// outbox has nothing queued.
func startDocServer(t *testing.T) *docServer {
	t.Helper()
	s := apptest.Start(t)
	s.StartJobs(t)
	tenant := s.Bootstrap(t, "Demo Merchant")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sandbox/messages" {
			waitForOutbox(t, s)
		}
		s.App.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return &docServer{t: t, s: s, url: ts.URL, key: tenant.APIKey}
}

func waitForOutbox(t *testing.T, s *apptest.Server) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var queued int
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sms_outbox WHERE state = 'queued'`).Scan(&queued); err != nil {
			t.Errorf("reading the SMS outbox: %v", err)
			return
		}
		if queued == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the SMS outbox did not drain in 15 s")
}

// call sends one enveloped request with the bootstrap key (or key) and
// returns the response's data; anything but a 200 fails the test.
func (d *docServer) call(method, path, key string, data any) map[string]any {
	d.t.Helper()
	var body *bytes.Reader
	if data != nil {
		raw, err := json.Marshal(map[string]any{"meta": map[string]any{"api_version": apptest.APIVersion}, "data": data})
		require.NoError(d.t, err)
		body = bytes.NewReader(raw)
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, d.url+path, body)
	require.NoError(d.t, err)
	req.Header.Set("X-Api-Key", key)
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", apptest.NewIdempotencyKey())
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err)
	defer func() { _ = res.Body.Close() }()
	var env struct {
		Data map[string]any `json:"data"`
	}
	raw := new(bytes.Buffer)
	_, err = raw.ReadFrom(res.Body)
	require.NoError(d.t, err)
	require.Equal(d.t, http.StatusOK, res.StatusCode, "%s %s: %s", method, path, raw)
	require.NoError(d.t, json.Unmarshal(raw.Bytes(), &env))
	return env.Data
}

var smsCode = regexp.MustCompile(`code is (\d{6})`)

// verifiedWallet enrolls phone, verifies it with the code of the sandbox
// inbox and tops the wallet up with actualMinor, as first-payment.md's
// step 0 does; it returns the wallet id.
func (d *docServer) verifiedWallet(phone string, actualMinor int64) string {
	d.t.Helper()
	d.call(http.MethodPost, "/enroll/initiate", d.key, map[string]any{"phone": phone, "currency": "EUR"})
	inbox := d.call(http.MethodGet, "/sandbox/messages?phone="+strings.ReplaceAll(phone, "+", "%2B"), d.key, nil)
	items, _ := inbox["items"].([]any)
	require.NotEmpty(d.t, items, "no SMS for %s", phone)
	m := smsCode.FindStringSubmatch(fmt.Sprint(items[0].(map[string]any)["body"]))
	require.NotNil(d.t, m, "SMS %v", items[0])
	verified := d.call(http.MethodPost, "/enroll/verify", d.key, map[string]any{"phone": phone, "code": m[1]})
	wallet := fmt.Sprint(verified["wallet"].(map[string]any)["id"])
	if actualMinor > 0 {
		d.call(http.MethodPost, "/topup/confirm", d.key, map[string]any{
			"wallet_id": wallet, "amount_minor": actualMinor, "currency": "EUR",
			"provider": "adyen", "settlement_reference": "docs-runner-" + wallet,
		})
	}
	return wallet
}

// capturedPayment pays amountMinor from wallet with a QR payload its wallet
// app minted, captured at once, and returns the payment id.
func (d *docServer) capturedPayment(wallet string, amountMinor int64) string {
	d.t.Helper()
	app := d.call(http.MethodPost, "/auth/keys", d.key, map[string]any{"name": "Wallet app", "scopes": []string{"qr:mint"}})
	qr := d.call(http.MethodPost, "/qr/mint", fmt.Sprint(app["api_key"]), map[string]any{"wallet_id": wallet})
	pay := d.call(http.MethodPost, "/payments", d.key, map[string]any{
		"amount_minor": amountMinor, "currency": "EUR",
		"credential": map[string]any{"type": "qr", "value": qr["qr_payload"]},
	})
	require.Equal(d.t, "captured", pay["status"])
	return fmt.Sprint(pay["id"])
}
