package loadtest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/loadtest"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestCitusSurvivesAWorkerRestartAndAServerKill runs in make test-citus,
// on a fresh clone of the Citus template. Merchants are drawn until each
// worker holds the shards of at least two; per merchant, clients top up
// and pay through a real `feddi serve`, retrying a retryable failure with
// the same Idempotency-Key. Mid-run worker 1 stops for a few seconds
// (db/citus.sh stop-worker 1, then start-worker 1): every failure a client
// sees then is a typed service_unavailable, retryable, and only for the
// merchants of worker 1; those of worker 2 see none, and worker 1's
// recover once it is back. Then the server is killed with SIGKILL and a
// new one started on the same database. Afterwards every key took effect
// exactly once, each wallet holds what the answers imply, and the ledger
// invariants hold.
func TestCitusSurvivesAWorkerRestartAndAServerKill(t *testing.T) {
	if !testdb.Citus() {
		t.Skip("FEDDI_TEST_CITUS_URL is not set: make test-citus runs this on a local Citus cluster (db/citus.sh)")
	}
	const bin = "../../bin/feddi" // make test-citus builds it
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (make test-citus builds it)", bin, err)
	}
	ctx := context.Background()
	dbURL := testdb.URL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	workerPort := map[int]int{} // node port -> worker number (1 or 2)
	for n := 1; n <= 2; n++ {
		port, err := strconv.Atoi(strings.TrimSpace(citusScript(t, ctx, "port", strconv.Itoa(n))))
		require.NoError(t, err)
		workerPort[port] = n
	}
	// Worker 1 runs again whatever happens to the test: the next tests
	// share the cluster.
	t.Cleanup(func() { citusScript(t, context.Background(), "start-worker", "1") })

	serverLog, err := os.Create(t.TempDir() + "/feddi.log")
	require.NoError(t, err)
	feddi := loadtest.Feddi{Bin: bin, DatabaseURL: dbURL, Log: serverLog}
	srv, err := feddi.Serve(ctx)
	require.NoError(t, err)
	live := srv // the server not killed, stopped after the test
	t.Cleanup(func() {
		if err := live.Stop(); err != nil {
			t.Errorf("stopping feddi serve: %v", err)
		}
		if t.Failed() {
			logServerErrors(t, serverLog.Name())
		}
	})

	// Merchants until each worker holds at least two of them.
	type merchant struct {
		boot   loadtest.Bootstrapped
		worker int
		fx     *loadtest.Fixture
	}
	var merchants []*merchant
	held := map[int]int{}
	for draws := 0; held[1] < 2 || held[2] < 2; draws++ {
		require.Less(t, draws, 40, "40 merchants and still not two on each worker: %v", held)
		boot, err := feddi.Bootstrap(ctx)
		require.NoError(t, err)
		var port int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT p.nodeport FROM pg_dist_shard_placement p
			WHERE p.shardid = get_shard_id_for_distribution_column('wallets', $1::text)`, boot.MerchantID).Scan(&port))
		w, ok := workerPort[port]
		require.True(t, ok, "merchant %s on node port %d, not a worker of db/citus.sh", boot.MerchantID, port)
		if held[w] >= 3 {
			continue // enough of those
		}
		held[w]++
		merchants = append(merchants, &merchant{boot: boot, worker: w})
	}
	const walletsPerMerchant = 2
	run := fmt.Sprintf("cc%d", time.Now().UnixNano())
	for i, m := range merchants {
		m.fx, err = loadtest.Setup(ctx, loadtest.NewAPI(srv.URL, fmt.Sprintf("%s-setup%d", run, i), 2), m.boot.APIKey, walletsPerMerchant, 2)
		require.NoError(t, err, "setting up merchant %s", m.boot.MerchantID)
	}
	t.Logf("%d merchants: %v on worker 1, %v on worker 2", len(merchants), held[1], held[2])

	// What each wallet holds before the load: actual money plus promo.
	startBalance := map[string]int64{}
	for _, m := range merchants {
		for _, w := range m.fx.Wallets {
			startBalance[w.ID] = walletTotal(t, ctx, pool, m.boot.MerchantID, w.ID)
		}
	}

	var base atomic.Pointer[string]
	base.Store(&srv.URL)
	c := &chaosClient{base: func() string { return *base.Load() }, hc: &http.Client{Timeout: 30 * time.Second}}
	type buyer struct {
		worker  int
		wallet  string
		topups  []string // settlement references answered
		pays    []string // payment references answered
		implied int64    // what the answers moved
		failed  []string // keys given up on
	}
	var clients []*buyer
	for _, m := range merchants {
		for _, w := range m.fx.Wallets {
			clients = append(clients, &buyer{worker: m.worker, wallet: w.ID})
		}
	}
	fxOf := func(cl *buyer) *loadtest.Fixture {
		for _, m := range merchants {
			for _, w := range m.fx.Wallets {
				if w.ID == cl.wallet {
					return m.fx
				}
			}
		}
		panic("no merchant for wallet " + cl.wallet)
	}

	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var seq atomic.Int64
	for i, cl := range clients {
		fx := fxOf(cl)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("%s-%d", run, seq.Add(1))
				if rng.IntN(2) == 0 {
					delta, err := c.topup(ctx, cl.worker, fx.Till, key, cl.wallet)
					if err != nil {
						cl.failed = append(cl.failed, fmt.Sprintf("top-up %s: %v", key, err))
						continue
					}
					cl.topups = append(cl.topups, "settle-"+key)
					cl.implied += delta
				} else {
					captured, err := c.pay(ctx, cl.worker, fx, key, cl.wallet)
					if err != nil {
						cl.failed = append(cl.failed, fmt.Sprintf("payment %s: %v", key, err))
						continue
					}
					cl.pays = append(cl.pays, key)
					cl.implied -= captured
				}
			}
		})
	}

	// The outage of worker 1.
	time.Sleep(5 * time.Second)
	c.mark("worker 1 stopping")
	citusScript(t, ctx, "stop-worker", "1")
	c.mark("worker 1 stopped")
	time.Sleep(5 * time.Second)
	citusScript(t, ctx, "start-worker", "1")
	restarted := c.mark("worker 1 started")
	time.Sleep(8 * time.Second)

	// The server killed mid-run, a new one on the same database.
	killed := c.mark("server killed")
	require.NoError(t, syscall.Kill(srv.PID(), syscall.SIGKILL))
	srv, err = feddi.Serve(ctx)
	require.NoError(t, err)
	live = srv
	base.Store(&srv.URL)
	c.mark("new server healthy")
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()
	end := time.Now()

	// The report: the failures clients saw, per worker group and phase.
	var topups, pays int
	for _, cl := range clients {
		topups += len(cl.topups)
		pays += len(cl.pays)
	}
	t.Logf("%d top-ups, %d payments answered in %s; %d attempts", topups, pays, end.Sub(start).Round(time.Second), c.attempts.Load())
	for _, ev := range c.timeline(start, killed, end) {
		t.Logf("  +%5.1fs %s", ev.at.Sub(start).Seconds(), ev.what)
	}
	outage := c.failuresBetween(start, killed)
	for w := 1; w <= 2; w++ {
		t.Logf("worker %d merchants, until the server kill: %v", w, outage.count(w))
	}
	afterKill := c.failuresBetween(killed, end)
	t.Logf("failures after the server kill: %v", afterKill.summary())
	var slowest time.Duration
	for _, cl := range clients {
		if at, ok := c.firstSuccessAfter(cl.wallet, restarted); ok && cl.worker == 1 {
			slowest = max(slowest, at.Sub(restarted))
		}
	}
	if last, ok := c.lastFailureBefore(1, killed); ok {
		t.Logf("worker 1 merchants: last failure %+.1fs after start-worker returned, every wallet answered again within %.1fs",
			last.Sub(restarted).Seconds(), slowest.Seconds())
	}

	// Until the server kill every failure is the outage's.
	t.Run("TheOutageAnsweredServiceUnavailable", func(t *testing.T) {
		var bad failures
		for _, f := range outage {
			if f.what != serviceUnavailable {
				bad = append(bad, f)
			}
		}
		explain(t, serverLog.Name(), bad)
		require.Empty(t, bad.summary(), "every failure during the outage is a typed service_unavailable, retryable")
		require.NotEmpty(t, outage.count(1), "worker 1's merchants saw no failure: else the outage proves nothing")
	})
	t.Run("Worker2MerchantsSawNoFailure", func(t *testing.T) {
		var bad failures
		for _, f := range outage {
			if f.group == 2 {
				bad = append(bad, f)
			}
		}
		explain(t, serverLog.Name(), bad)
		require.Empty(t, bad.summary(), "the merchants of worker 2 saw failures while worker 1 was down")
	})
	t.Run("AServerKillCostsRetriesOnly", func(t *testing.T) {
		var bad []string
		for _, f := range afterKill {
			if strings.HasPrefix(f.what, "untyped") || strings.HasPrefix(f.what, "5") && f.what != serviceUnavailable {
				bad = append(bad, fmt.Sprintf("worker %d merchant: %s", f.group, f.what))
			}
		}
		require.Empty(t, bad, "after the kill clients see refused connections, lost answers and retryable codes, nothing else")
	})
	t.Run("Worker1MerchantsRecovered", func(t *testing.T) {
		for _, cl := range clients {
			if cl.worker != 1 {
				continue
			}
			require.True(t, c.succeededBetween(cl.wallet, restarted, killed),
				"wallet %s of worker 1 got no answer between the restart and the server kill", cl.wallet)
		}
	})
	t.Run("EveryKeyFinished", func(t *testing.T) {
		for _, cl := range clients {
			require.Empty(t, cl.failed)
			require.NotEmpty(t, cl.topups)
			require.NotEmpty(t, cl.pays)
		}
	})
	t.Run("EveryKeyTookEffectOnce", func(t *testing.T) {
		var topupRefs, payRefs []string
		for _, cl := range clients {
			topupRefs = append(topupRefs, cl.topups...)
			payRefs = append(payRefs, cl.pays...)
		}
		require.Equal(t, map[int]int{1: len(topupRefs)}, countEach(t, ctx, pool,
			`SELECT count(*) FROM ledger_transactions WHERE type = 'topup' AND settlement_reference = ANY($1) GROUP BY settlement_reference`, topupRefs),
			"top-up ledger transactions per key")
		require.Equal(t, map[int]int{1: len(payRefs)}, countEach(t, ctx, pool,
			`SELECT count(*) FROM ledger_transactions t JOIN payments p ON p.merchant_id = t.merchant_id AND p.id = t.payment_id
			 WHERE t.type = 'payment' AND p.reference = ANY($1) GROUP BY p.merchant_id, p.reference`, payRefs),
			"payment ledger transactions per key (captured automatically)")
		// No key of the run took effect without an answer: every top-up
		// and payment of these wallets since the start is one answered.
		var booked int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FROM ledger_transactions WHERE type IN ('topup', 'payment') AND created_at >= $1`, start).Scan(&booked))
		require.Equal(t, len(topupRefs)+len(payRefs), booked, "top-ups and payments booked since the load started")
	})
	t.Run("BalancesAreWhatTheAnswersImply", func(t *testing.T) {
		for _, m := range merchants {
			for _, w := range m.fx.Wallets {
				cl := clients[slices.IndexFunc(clients, func(cl *buyer) bool { return cl.wallet == w.ID })]
				if got := walletTotal(t, ctx, pool, m.boot.MerchantID, w.ID); got != startBalance[w.ID]+cl.implied {
					answered := map[string]bool{}
					for _, ref := range append(slices.Clone(cl.topups), cl.pays...) {
						answered[ref] = true
					}
					booked := bookedSince(t, ctx, pool, m.boot.MerchantID, w.ID, start)
					for _, b := range booked {
						if !answered[b.ref] && b.typ != "promo_grant" {
							t.Logf("wallet %s: booked without an answer: %+v", w.ID, b)
						}
					}
					t.Errorf("wallet %s (worker %d): %d now, %d before the load, %d moved by the answers (%d top-ups, %d payments answered; %d booked)",
						w.ID, m.worker, got, startBalance[w.ID], cl.implied, len(cl.topups), len(cl.pays), len(booked))
				}
			}
		}
	})
	t.Run("LedgerInvariantsHold", func(t *testing.T) {
		moneytest.CheckLedger(t, pool)
	})
}

// serviceUnavailable is how a failure the outage may cause is recorded.
const serviceUnavailable = "503 service_unavailable retryable"

// citusScript runs db/citus.sh with the test's environment (make
// test-citus passes FEDDI_CITUS_PORT and FEDDI_CITUS_DIR through) and
// returns its stdout.
func citusScript(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"../../db/citus.sh"}, args...)...)
	cmd.Env = os.Environ()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("db/citus.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// walletTotal is a wallet's actual money plus its promo credit, available
// and locked: a payment spends promo first, so only the sum follows from
// the answers.
func walletTotal(t *testing.T, ctx context.Context, pool *pgxpool.Pool, merchantID, walletID string) int64 {
	t.Helper()
	var total int64
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT actual_minor + promo_available_minor + promo_locked_minor FROM wallets WHERE merchant_id = $1 AND id = $2`,
		merchantID, walletID).Scan(&total))
	return total
}

// booking is a ledger transaction of a wallet.
type booking struct {
	ref, typ      string // the settlement or payment reference
	actual, promo int64
	at            time.Time
}

// bookedSince lists a wallet's ledger transactions since a time.
func bookedSince(t *testing.T, ctx context.Context, pool *pgxpool.Pool, merchantID, walletID string, since time.Time) []booking {
	t.Helper()
	rows, err := pool.Query(ctx, `
		SELECT coalesce(t.settlement_reference, p.reference, t.id), t.type, t.actual_delta_minor, t.promo_delta_minor, t.created_at
		FROM ledger_transactions t LEFT JOIN payments p ON p.merchant_id = t.merchant_id AND p.id = t.payment_id
		WHERE t.merchant_id = $1 AND t.wallet_id = $2 AND t.created_at >= $3 ORDER BY t.created_at`, merchantID, walletID, since)
	require.NoError(t, err)
	defer rows.Close()
	var out []booking
	for rows.Next() {
		var b booking
		require.NoError(t, rows.Scan(&b.ref, &b.typ, &b.actual, &b.promo, &b.at))
		out = append(out, b)
	}
	require.NoError(t, rows.Err())
	return out
}

// countEach counts how many times each key took effect: times -> keys,
// with the keys that took no effect under 0.
func countEach(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sql string, keys []string) map[int]int {
	t.Helper()
	rows, err := pool.Query(ctx, sql, keys)
	require.NoError(t, err)
	defer rows.Close()
	seen := map[int]int{}
	got := 0
	for rows.Next() {
		var n int
		require.NoError(t, rows.Scan(&n))
		seen[n]++
		got++
	}
	require.NoError(t, rows.Err())
	if missing := len(keys) - got; missing > 0 {
		seen[0] = missing
	}
	return seen
}

var walletID = regexp.MustCompile(`wal_[0-9A-Z]+`)

// explain logs the first failures of a list with what the server logged
// for each (found by its request id), one per kind of failure and server
// error.
func explain(t *testing.T, path string, fs failures) {
	if len(fs) == 0 {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("reading the server log: %v", err)
		return
	}
	seen := map[string]bool{}
	for _, f := range fs {
		var logged struct {
			Error string `json:"error"`
		}
		if _, id, ok := strings.Cut(f.call, " req_"); ok {
			for line := range strings.Lines(string(b)) {
				if strings.Contains(line, "req_"+id) {
					_ = json.Unmarshal([]byte(line), &logged)
					break
				}
			}
		}
		// The kind: the answer and the server's error without its wallet.
		kind := f.what + " " + walletID.ReplaceAllString(logged.Error, "wal_…")
		if seen[kind] || len(seen) >= 12 {
			continue
		}
		seen[kind] = true
		t.Logf("worker %d merchant, %s: %s\n\tserver: %.400s", f.group, f.call, f.what, logged.Error)
	}
}

// logServerErrors logs the warnings and errors of the servers' log.
func logServerErrors(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Logf("reading the server log: %v", err)
		return
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "ERROR") || strings.Contains(line, "WARN") {
			if n++; n <= 40 {
				t.Logf("server: %.400s", line)
			}
		}
	}
	if n > 40 {
		t.Logf("server: … %d more warnings and errors", n-40)
	}
}

// chaosClient is a till that retries a call with the same Idempotency-Key
// on a retryable failure (a transport error, a 5xx, a retryable error
// code), against whichever server runs now, and records every failure it
// sees: when, for which worker's merchant, and what.
type chaosClient struct {
	base func() string
	hc   *http.Client

	attempts atomic.Int64
	mu       sync.Mutex
	failures failures
	answers  map[string][]time.Time // wallet -> when a call for it succeeded
	events   []event
}

type failure struct {
	at     time.Time
	group  int // the worker holding the merchant
	wallet string
	what   string // serviceUnavailable, or what else it was
	call   string // the method, path and request id, to find it in the server's log
}

type failures []failure

type event struct {
	at   time.Time
	what string
}

func (c *chaosClient) mark(what string) time.Time {
	now := time.Now()
	c.mu.Lock()
	c.events = append(c.events, event{now, what})
	c.mu.Unlock()
	return now
}

// timeline is the marks with the first and last failure of each group in
// each phase between two marks.
func (c *chaosClient) timeline(phases ...time.Time) []event {
	c.mu.Lock()
	evs := slices.Clone(c.events)
	c.mu.Unlock()
	for i := 0; i+1 < len(phases); i++ {
		fs := c.failuresBetween(phases[i], phases[i+1])
		for g := 1; g <= 2; g++ {
			var first, last *failure
			for j := range fs {
				if fs[j].group != g {
					continue
				}
				if first == nil {
					first = &fs[j]
				}
				last = &fs[j]
			}
			if first != nil {
				evs = append(evs, event{first.at, fmt.Sprintf("first failure of worker %d merchants: %s", g, first.what)},
					event{last.at, fmt.Sprintf("last failure of worker %d merchants: %s", g, last.what)})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	return evs
}

func (c *chaosClient) failuresBetween(from, to time.Time) failures {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out failures
	for _, f := range c.failures {
		if !f.at.Before(from) && f.at.Before(to) {
			out = append(out, f)
		}
	}
	return out
}

func (fs failures) count(group int) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		if f.group == group {
			m[f.what]++
		}
	}
	return m
}

func (fs failures) summary() map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[fmt.Sprintf("worker %d: %s", f.group, f.what)]++
	}
	return m
}

// lastFailureBefore is when a group of clients last failed before a time.
func (c *chaosClient) lastFailureBefore(group int, t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, f := range c.failures {
		if f.group == group && f.at.Before(t) {
			last = f.at
		}
	}
	return last, !last.IsZero()
}

// firstSuccessAfter is when a call for the wallet first succeeded after a
// time.
func (c *chaosClient) firstSuccessAfter(wallet string, t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.answers[wallet] {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

func (c *chaosClient) succeededBetween(wallet string, from, to time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.answers[wallet] {
		if at.After(from) && at.Before(to) {
			return true
		}
	}
	return false
}

// chaosRetryFor is how long a client keeps retrying one key.
const chaosRetryFor = 90 * time.Second

func (c *chaosClient) call(ctx context.Context, group int, wallet string, auth client.RequestEditorFn,
	build func(base string) (*http.Request, error),
) (json.RawMessage, error) {
	var last string
	deadline := time.Now().Add(chaosRetryFor)
	for attempt := 0; attempt == 0 || time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(min(attempt, 5)) * 100 * time.Millisecond)
		}
		c.attempts.Add(1)
		req, err := build(c.base())
		if err != nil {
			return nil, err
		}
		if err := auth(ctx, req); err != nil {
			return nil, err
		}
		what, data, reqID, done := c.do(ctx, req)
		if done {
			c.mu.Lock()
			if c.answers == nil {
				c.answers = map[string][]time.Time{}
			}
			c.answers[wallet] = append(c.answers[wallet], time.Now())
			c.mu.Unlock()
			return data, nil
		}
		c.mu.Lock()
		c.failures = append(c.failures, failure{at: time.Now(), group: group, wallet: wallet, what: what,
			call: fmt.Sprintf("%s %s %s", req.Method, req.URL.Path, reqID)})
		c.mu.Unlock()
		last = what
		if strings.HasPrefix(what, "final ") {
			return nil, fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, what)
		}
	}
	return nil, fmt.Errorf("gave up after %s: %s", chaosRetryFor, last)
}

// do sends one attempt: the data of a success, or what the failure was
// ("final …" when retrying cannot help) and its request id.
func (c *chaosClient) do(ctx context.Context, req *http.Request) (what string, data json.RawMessage, reqID string, done bool) {
	res, err := c.hc.Do(req.WithContext(ctx))
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return "connection refused", nil, "", false
		}
		return "transport error", nil, "", false
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return "transport error reading the body", nil, "", false
	}
	data, code, typed := typedEnvelope(res.StatusCode, res.Header.Get("Content-Type"), body)
	switch {
	case !typed:
		return fmt.Sprintf("untyped %d %.200s", res.StatusCode, body), nil, "", false
	case res.StatusCode < 300:
		return "", data, "", true
	}
	var env struct {
		Error struct {
			Retryable bool `json:"retryable"`
		} `json:"error"`
		Meta struct {
			RequestID string `json:"request_id"`
		} `json:"meta"`
	}
	_ = json.Unmarshal(body, &env)
	what = fmt.Sprintf("%d %s", res.StatusCode, code)
	if env.Error.Retryable {
		what += " retryable"
	}
	if !env.Error.Retryable && res.StatusCode < 500 {
		return fmt.Sprintf("final %s: %.200s", what, body), nil, env.Meta.RequestID, false
	}
	return what, nil, env.Meta.RequestID, false
}

// topup confirms a top-up of 500 and returns what it moved: the top-up
// and the reload bonus it earned (loadtest.Setup configures one).
func (c *chaosClient) topup(ctx context.Context, group int, till client.RequestEditorFn, key, wallet string) (int64, error) {
	data, err := c.call(ctx, group, wallet, till, func(base string) (*http.Request, error) {
		return client.NewConfirmTopupRequest(base, &client.ConfirmTopupParams{IdempotencyKey: key}, client.ConfirmTopupInput{
			Meta: meta, Data: client.ConfirmTopupInputData{WalletId: wallet, AmountMinor: 500, Currency: "EUR", Provider: "adyen", SettlementReference: "settle-" + key},
		})
	})
	if err != nil {
		return 0, err
	}
	var res client.TopupResult
	if err := json.Unmarshal(data, &res); err != nil {
		return 0, fmt.Errorf("reading a top-up: %w", err)
	}
	moved := res.Transaction.ActualDeltaMinor + res.Transaction.PromoDeltaMinor
	if res.BonusGrant != nil { // booked as a transaction of its own, promo_grant
		moved += res.BonusGrant.OriginalMinor
	}
	return moved, nil
}

// pay mints a QR with the wallet app and pays 100 with it, captured
// automatically; it returns what was captured.
func (c *chaosClient) pay(ctx context.Context, group int, fx *loadtest.Fixture, key, wallet string) (int64, error) {
	payload, err := mintQr(key, func(mintKey string) (json.RawMessage, error) {
		return c.call(ctx, group, wallet, fx.WalletApp, func(base string) (*http.Request, error) {
			return client.NewMintQrRequest(base, &client.MintQrParams{IdempotencyKey: mintKey},
				client.MintQrInput{Meta: meta, Data: client.MintQrInputData{WalletId: wallet}})
		})
	})
	if err != nil {
		return 0, err
	}
	capture := client.CaptureModeAutomatic
	ref := key
	data, err := c.call(ctx, group, wallet, fx.Till, func(base string) (*http.Request, error) {
		return client.NewCreatePaymentRequest(base, &client.CreatePaymentParams{IdempotencyKey: key}, client.CreatePaymentInput{
			Meta: meta, Data: client.CreatePaymentInputData{
				AmountMinor: 100, Currency: "EUR", Capture: &capture, Reference: &ref,
				Credential: client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: &payload},
			},
		})
	})
	if err != nil {
		return 0, err
	}
	var p client.Payment
	if err := json.Unmarshal(data, &p); err != nil {
		return 0, fmt.Errorf("reading a payment: %w", err)
	}
	if p.Status != client.PaymentStatusCaptured || p.CapturedMinor != 100 {
		return 0, fmt.Errorf("payment %s: %s, %d captured", key, p.Status, p.CapturedMinor)
	}
	return p.CapturedMinor, nil
}
