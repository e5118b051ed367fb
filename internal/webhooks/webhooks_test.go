package webhooks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/webhooks"
)

func TestSignaturesVerifyWithTheStandardWebhooksLibrary(t *testing.T) {
	t.Parallel()
	oldSecret, err := webhooks.NewSecret()
	require.NoError(t, err)
	newSecret, err := webhooks.NewSecret()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(newSecret, "whsec_"))
	oldKey, err := webhooks.SecretKey(oldSecret)
	require.NoError(t, err)
	newKey, err := webhooks.SecretKey(newSecret)
	require.NoError(t, err)

	body := []byte(`{"id":"evt_01JWRZ8Q4M3D2B7C6F5E4H3G2K","type":"payment.captured"}`)
	at := time.Now()
	headers := func(sig string) http.Header {
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, "evt_01JWRZ8Q4M3D2B7C6F5E4H3G2K")
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		return h
	}
	// During a rotation both secrets sign: a receiver holding either one
	// verifies.
	both := webhooks.Signature([][]byte{newKey, oldKey}, "evt_01JWRZ8Q4M3D2B7C6F5E4H3G2K", at, body)
	require.Len(t, strings.Fields(both), 2)
	for _, secret := range []string{oldSecret, newSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, headers(both)))
	}
	// One signature only: the other secret fails.
	only := webhooks.Signature([][]byte{newKey}, "evt_01JWRZ8Q4M3D2B7C6F5E4H3G2K", at, body)
	wh, err := standardwebhooks.NewWebhook(oldSecret)
	require.NoError(t, err)
	require.Error(t, wh.Verify(body, headers(only)))
	// A changed body fails.
	wh, err = standardwebhooks.NewWebhook(newSecret)
	require.NoError(t, err)
	require.Error(t, wh.Verify(append(body, ' '), headers(only)))

	for _, bad := range []string{"", "whsec_", "whsec_!!!", "sk_" + strings.TrimPrefix(newSecret, "whsec_"), "whsec_c2hvcnQ="} {
		_, err := webhooks.SecretKey(bad)
		require.ErrorIs(t, err, webhooks.ErrSecret, bad)
	}
}

func TestPublicAddresses(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"} {
		require.True(t, webhooks.Public(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1", "::"} {
		require.False(t, webhooks.Public(netip.MustParseAddr(a)), a)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	live, sandbox := webhooks.Guard{}, webhooks.Guard{Sandbox: true}
	for _, u := range []string{
		"http://example.com/hook",          // not https
		"https://127.0.0.1/hook",           // loopback
		"https://169.254.169.254/latest",   // link-local (cloud metadata)
		"https://10.0.0.1/hook",            // private
		"https://[::1]/hook",               // loopback
		"https://user:pw@example.com/hook", // credentials
		"ftp://example.com/hook",           // scheme
		"/relative",                        // not absolute
		"https://localhost/hook",           // resolves to loopback
		"http://127.0.0.1:8080/hook",       // live: no http at all
	} {
		require.ErrorIs(t, live.CheckURL(ctx, u), webhooks.ErrURL, u)
	}
	require.NoError(t, sandbox.CheckURL(ctx, "http://127.0.0.1:8080/hook"))
	require.ErrorIs(t, sandbox.CheckURL(ctx, "http://10.0.0.1/hook"), webhooks.ErrURL)
	require.ErrorIs(t, sandbox.CheckURL(ctx, "https://169.254.169.254/"), webhooks.ErrURL)
	require.NoError(t, live.CheckURL(ctx, "https://8.8.8.8/hook"), "a public address")
}

func TestClientRefusesInternalAddressesAtConnectTime(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	post := func(c *http.Client, path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader("{}"))
		require.NoError(t, err)
		return c.Do(req)
	}

	// Live: the dialer refuses the loopback receiver, whatever the URL
	// check said before.
	_, err := post(webhooks.Guard{}.Client(), "/")
	require.Error(t, err)
	require.Zero(t, hits.Load())

	// Sandbox: 127.0.0.1 is allowed; redirects are not followed.
	c := webhooks.Guard{Sandbox: true}.Client()
	res, err := post(c, "/")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res, err = post(c, "/redirect")
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusFound, res.StatusCode, "a 3xx is an answer, never followed")
	require.Equal(t, int32(2), hits.Load())
	require.Equal(t, webhooks.Timeout, c.Timeout)
}

func TestRetryWait(t *testing.T) {
	t.Parallel()
	var since time.Duration
	attempts := 0
	for attempt := 1; since < webhooks.RetryWindow; attempt++ {
		w := webhooks.RetryWait(attempt, webhooks.DefaultRetryBase)
		require.LessOrEqual(t, w, 12*time.Hour)
		if attempt > 1 {
			require.GreaterOrEqual(t, w, webhooks.RetryWait(attempt-1, webhooks.DefaultRetryBase))
		}
		since += w
		attempts++
	}
	require.Equal(t, 30*time.Second, webhooks.RetryWait(1, webhooks.DefaultRetryBase))
	require.Equal(t, time.Minute, webhooks.RetryWait(2, webhooks.DefaultRetryBase))
	require.Less(t, attempts, 25, "three days of retries fit River's attempts")
}
