package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/webhooks"
)

// receiver is an integrator's webhook endpoint: it verifies every request
// with the Standard Webhooks library against the secrets it holds and
// answers with respond (204 when nil).
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string
	// verified counts, per secret index, the requests that verified.
	verified map[int]int
	// got lists every request's webhook-id, in arrival order; ok the ids
	// answered 2xx.
	got, ok []string
	bodies  []map[string]any
	respond func(id string, n int) int
	block   chan struct{}
	entered chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, verified: map[int]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	block, entered := r.block, r.entered
	r.block, r.entered = nil, nil
	r.mu.Unlock()
	if block != nil { // the first request hangs until released
		close(entered)
		<-block
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if g == id {
			n++
		}
	}
	r.got = append(r.got, id)
	anyOK := false
	for i, s := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil && wh.Verify(body, req.Header) == nil {
			r.verified[i]++
			anyOK = true
		}
	}
	if !anyOK {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	status := http.StatusNoContent
	if r.respond != nil {
		status = r.respond(id, n)
	}
	if status < 300 {
		r.ok = append(r.ok, id)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.bodies = append(r.bodies, m)
	}
	w.WriteHeader(status)
}

func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) trust(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, secret)
}

// await waits until n requests were answered 2xx.
func (r *receiver) await(n int) []string {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		ok := append([]string(nil), r.ok...)
		r.mu.Unlock()
		if len(ok) >= n || time.Now().After(deadline) {
			require.Len(r.t, ok, n, "deliveries answered 2xx")
			return ok
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func createEndpoint(t *testing.T, e *moneytest.Env, key string, data client.CreateWebhookEndpointInputData) *client.CreateWebhookEndpointResponse {
	t.Helper()
	res, err := e.C.CreateWebhookEndpointWithResponse(e.Ctx, &client.CreateWebhookEndpointParams{IdempotencyKey: key},
		client.CreateWebhookEndpointInput{Meta: moneytest.Meta(), Data: data}, e.AsAdmin())
	require.NoError(t, err)
	return res
}

func deliveriesOf(t *testing.T, e *moneytest.Env, id string) []client.WebhookDelivery {
	t.Helper()
	res, err := e.C.ListWebhookDeliveriesWithResponse(e.Ctx, id, &client.ListWebhookDeliveriesParams{}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return res.JSON200.Data.Items
}

// awaitDeliveries lists the endpoint's delivery attempts once there are at
// least n: a receiver sees a request before the worker commits its attempt
// (behind PgBouncer, make test-pgbouncer, measurably later).
func awaitDeliveries(t *testing.T, e *moneytest.Env, id string, n int) []client.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	ds := deliveriesOf(t, e, id)
	for len(ds) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		ds = deliveriesOf(t, e, id)
	}
	return ds
}

func fastRetries(c *config.Config) { c.WebhookRetryBase = 10 * time.Millisecond }

func TestWebhooksDeliverSignedEvents(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t, fastRetries)
	e.S.StartJobs(t)
	r := newReceiver(t)
	key := moneytest.NewIdemKey()
	data := client.CreateWebhookEndpointInputData{Url: r.url(), EventTypes: []client.EventType{client.EventTypeApiKeyRevoked}}
	created := createEndpoint(t, e, key, data)
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	ep := created.JSON200.Data
	require.False(t, ep.SecretRedacted)
	require.NotNil(t, ep.Secret)
	require.True(t, strings.HasPrefix(*ep.Secret, "whsec_"))
	require.Equal(t, client.WebhookEndpointStatusEnabled, ep.Endpoint.Status)
	r.trust(*ep.Secret)

	t.Run("ReplayRedactsTheSecret", func(t *testing.T) {
		again := createEndpoint(t, e, key, data)
		require.Equal(t, http.StatusOK, again.StatusCode(), "body: %s", again.Body)
		require.True(t, again.JSON200.Data.SecretRedacted)
		require.Nil(t, again.JSON200.Data.Secret)
		require.Equal(t, ep.Endpoint.Id, again.JSON200.Data.Endpoint.Id)
		var stored string
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT convert_from(response_body, 'UTF8') FROM idempotency_keys WHERE key = $1`, key).Scan(&stored))
		require.NotContains(t, stored, *ep.Secret)
		var sealed []byte
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT secret_sealed FROM webhook_endpoints WHERE id = $1`, ep.Endpoint.Id).Scan(&sealed))
		require.NotContains(t, string(sealed), strings.TrimPrefix(*ep.Secret, "whsec_"), "sealed at rest")
	})

	first := revokeNewKey(t, e)
	ids1 := r.await(1)
	r.mu.Lock()
	require.Equal(t, first, r.bodies[0]["data"].(map[string]any)["id"])
	require.Equal(t, "api_key.revoked", r.bodies[0]["type"])
	r.mu.Unlock()
	require.True(t, strings.HasPrefix(ids1[0], "evt_"), "webhook-id is the event id")
	ds := awaitDeliveries(t, e, ep.Endpoint.Id, 1)
	require.Len(t, ds, 1)
	require.Equal(t, ids1[0], ds[0].EventId)
	require.True(t, ds[0].Succeeded)
	require.Equal(t, 204, *ds[0].StatusCode)

	t.Run("RotationSignsWithBothSecretsForADay", func(t *testing.T) {
		rot, err := e.C.RotateWebhookEndpointSecretWithResponse(e.Ctx, ep.Endpoint.Id, &client.RotateWebhookEndpointSecretParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.RotateWebhookEndpointSecretInput{Meta: moneytest.Meta()}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rot.StatusCode(), "body: %s", rot.Body)
		require.NotEqual(t, *ep.Secret, *rot.JSON200.Data.Secret)
		require.NotNil(t, rot.JSON200.Data.Endpoint.PreviousSecretExpiresAt)
		r.trust(*rot.JSON200.Data.Secret)
		revokeNewKey(t, e)
		r.await(2)
		r.mu.Lock()
		require.Equal(t, map[int]int{0: 2, 1: 1}, r.verified, "the second delivery verifies with the old and the new secret")
		r.mu.Unlock()
		// A day later the old secret signs no more.
		e.S.Clock.Advance(webhooks.RotationOverlap + time.Minute)
		revokeNewKey(t, e)
		r.await(3)
		r.mu.Lock()
		require.Equal(t, map[int]int{0: 2, 1: 2}, r.verified, "only the new secret signs the third")
		r.mu.Unlock()
	})
	t.Run("AnotherIntegrationsEventsStayAway", func(t *testing.T) {
		_, otherKey := e.OtherIntegration(t)
		created, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.CreateApiKeyInput{Meta: moneytest.Meta(), Data: client.CreateApiKeyInputData{Name: "theirs", Scopes: []client.Scope{client.ScopeCustomersRead}}}, moneytest.Key(otherKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
		res, err := e.C.RevokeApiKeyWithResponse(e.Ctx, created.JSON200.Data.Key.Id, &client.RevokeApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.RevokeApiKeyInput{Meta: moneytest.Meta()}, moneytest.Key(otherKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		var jobs int
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'`).Scan(&jobs))
		require.Equal(t, 3, jobs, "no job for another integration's key")
	})
	t.Run("DeletedReceivesNothing", func(t *testing.T) {
		del, err := e.C.DeleteWebhookEndpointWithResponse(e.Ctx, ep.Endpoint.Id, &client.DeleteWebhookEndpointParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.DeleteWebhookEndpointInput{Meta: moneytest.Meta()}, e.AsAdmin())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, del.StatusCode(), "body: %s", del.Body)
		revokeNewKey(t, e)
		var jobs int
		require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'`).Scan(&jobs))
		require.Equal(t, 3, jobs, "no job for an event after the delete")
		list, err := e.C.ListWebhookEndpointsWithResponse(e.Ctx, &client.ListWebhookEndpointsParams{}, e.AsAdmin())
		require.NoError(t, err)
		require.Empty(t, list.JSON200.Data.Items)
		res, err := e.C.ListWebhookDeliveriesWithResponse(e.Ctx, ep.Endpoint.Id, &client.ListWebhookDeliveriesParams{}, e.AsAdmin())
		require.NoError(t, err)
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
}

func TestWebhooksRetryAFailingReceiver(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t, fastRetries)
	e.S.StartJobs(t)
	r := newReceiver(t)
	r.respond = func(_ string, n int) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	created := createEndpoint(t, e, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: r.url(), EventTypes: []client.EventType{client.EventTypeApiKeyRevoked}})
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	r.trust(*created.JSON200.Data.Secret)
	revokeNewKey(t, e)
	revokeNewKey(t, e)
	ok := r.await(2)
	require.NotEqual(t, ok[0], ok[1], "each event exactly once as a success")
	time.Sleep(200 * time.Millisecond)
	r.mu.Lock()
	require.Len(t, r.ok, 2)
	require.Len(t, r.got, 6, "two failures, then the success, per event")
	r.mu.Unlock()
	ds := awaitDeliveries(t, e, created.JSON200.Data.Endpoint.Id, 6)
	require.Len(t, ds, 6)
	codes := map[int]int{}
	for _, d := range ds {
		codes[*d.StatusCode]++
		require.GreaterOrEqual(t, d.LatencyMs, 0)
	}
	require.Equal(t, map[int]int{500: 4, 204: 2}, codes)
}

func TestWebhooksSurviveAStoppedServer(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t, fastRetries)
	r := newReceiver(t)
	block, entered := make(chan struct{}), make(chan struct{})
	r.block, r.entered = block, entered
	created := createEndpoint(t, e, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: r.url(), EventTypes: []client.EventType{client.EventTypeApiKeyRevoked}})
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	r.trust(*created.JSON200.Data.Secret)
	revokeNewKey(t, e)

	// The first server starts delivering, and dies mid-request.
	require.NoError(t, e.S.App.StartJobs(context.Background()))
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.S.App.Jobs.StopAndCancel(ctx))
	close(block)

	// Another one on the same database finishes the job.
	second := apptest.StartOn(t, e.S.Pool, fastRetries)
	second.StartJobs(t)
	ok := r.await(1)
	ds := awaitDeliveries(t, e, created.JSON200.Data.Endpoint.Id, 1)
	require.NotEmpty(t, ds)
	require.Equal(t, ok[0], ds[0].EventId)
	require.True(t, ds[0].Succeeded)
}

func TestWebhooksDisableAnEndpointFailingForThreeDays(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t, func(c *config.Config) { c.WebhookRetryBase = time.Hour })
	e.S.StartJobs(t)
	r := newReceiver(t)
	r.respond = func(string, int) int { return http.StatusServiceUnavailable }
	created := createEndpoint(t, e, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: r.url(), EventTypes: []client.EventType{client.EventTypeApiKeyRevoked}})
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	r.trust(*created.JSON200.Data.Secret)
	id := created.JSON200.Data.Endpoint.Id
	status := func() client.WebhookEndpoint {
		list, err := e.C.ListWebhookEndpointsWithResponse(e.Ctx, &client.ListWebhookEndpointsParams{}, e.AsAdmin())
		require.NoError(t, err)
		require.Len(t, list.JSON200.Data.Items, 1)
		return list.JSON200.Data.Items[0]
	}
	awaitAttempts := func(n int) {
		deadline := time.Now().Add(30 * time.Second)
		for len(deliveriesOf(t, e, id)) < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		require.Len(t, deliveriesOf(t, e, id), n)
	}
	revokeNewKey(t, e)
	awaitAttempts(1)
	require.NotNil(t, status().FailingSince)
	require.Equal(t, client.WebhookEndpointStatusEnabled, status().Status)

	e.S.Clock.Advance(73 * time.Hour)
	revokeNewKey(t, e)
	awaitAttempts(2)
	got := status()
	require.Equal(t, client.WebhookEndpointStatusDisabled, got.Status)
	require.NotNil(t, got.DisabledAt)
	// Its events stay readable.
	require.Len(t, awaitEvents(t, e, e.AsAdmin(), 2), 2) // the listing waits out older transactions of the cluster
	// A disabled endpoint gets no more jobs.
	revokeNewKey(t, e)
	var jobs int
	require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'`).Scan(&jobs))
	require.Equal(t, 2, jobs)
}

func TestWebhookEndpointURLs(t *testing.T) {
	t.Parallel()
	live := moneytest.Start(t, apptest.Live())
	sandbox := moneytest.Start(t)
	refused := func(t *testing.T, e *moneytest.Env, url string) {
		t.Helper()
		res := createEndpoint(t, e, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: url, EventTypes: []client.EventType{client.EventTypeGrantIssued}})
		got := wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed)
		require.Equal(t, "/data/url", *got.Field, url)
	}
	for _, u := range []string{"http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest",
		"https://db.internal.test/hook", "http://pos.example.com/hook", "https://nowhere.invalid/hook", "https://user:pw@pos.example.com/hook"} {
		refused(t, live, u)
	}
	for _, u := range []string{"https://10.0.0.1/hook", "https://db.internal.test/hook", "http://pos.example.com/hook"} {
		refused(t, sandbox, u)
	}
	local := createEndpoint(t, sandbox, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: "http://127.0.0.1:9/hook", EventTypes: []client.EventType{client.EventTypeGrantIssued}})
	require.Equal(t, http.StatusOK, local.StatusCode(), "body: %s", local.Body)
	ok := createEndpoint(t, live, moneytest.NewIdemKey(), client.CreateWebhookEndpointInputData{Url: "https://pos.example.com/hook", EventTypes: []client.EventType{client.EventTypeGrantIssued}})
	require.Equal(t, http.StatusOK, ok.StatusCode(), "body: %s", ok.Body)

	t.Run("ScopeAndNotFound", func(t *testing.T) {
		pe := &payEnv{Env: sandbox, t: t}
		without := pe.keyWith(client.ScopeEventsRead)
		res, err := sandbox.C.ListWebhookEndpointsWithResponse(sandbox.Ctx, &client.ListWebhookEndpointsParams{}, without)
		require.NoError(t, err)
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		missing := ids.New(ids.WebhookEndpoint)
		rot, err := sandbox.C.RotateWebhookEndpointSecretWithResponse(sandbox.Ctx, missing, &client.RotateWebhookEndpointSecretParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.RotateWebhookEndpointSecretInput{Meta: moneytest.Meta()}, sandbox.AsAdmin())
		require.NoError(t, err)
		wantError(t, rot, rot.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		del, err := sandbox.C.DeleteWebhookEndpointWithResponse(sandbox.Ctx, missing, &client.DeleteWebhookEndpointParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.DeleteWebhookEndpointInput{Meta: moneytest.Meta()}, sandbox.AsAdmin())
		require.NoError(t, err)
		wantError(t, del, del.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		// Another integration's endpoint is not found either.
		_, otherKey := sandbox.OtherIntegration(t)
		del, err = sandbox.C.DeleteWebhookEndpointWithResponse(sandbox.Ctx, local.JSON200.Data.Endpoint.Id, &client.DeleteWebhookEndpointParams{IdempotencyKey: moneytest.NewIdemKey()},
			client.DeleteWebhookEndpointInput{Meta: moneytest.Meta()}, moneytest.Key(otherKey))
		require.NoError(t, err)
		wantError(t, del, del.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
}
