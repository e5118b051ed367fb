package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/qr"
)

// The till at rush hour: many tills pay through ONE API key, each naming
// itself in context.terminal_id, while the customers' wallet app (its own
// key, qr:mint) mints the codes. Guess limits must catch a guesser and
// nobody else.

// till pays with the till key as one terminal.
type till struct {
	e    *payEnv
	key  client.RequestEditorFn
	name string
}

func (tl till) pay(value string, amount int64) *client.CreatePaymentResponse {
	tl.e.t.Helper()
	res, err := tl.e.C.CreatePaymentWithResponse(tl.e.Ctx, &client.CreatePaymentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreatePaymentInput{
			Meta:    moneytest.Meta(),
			Context: &client.RequestContext{TerminalId: &tl.name},
			Data:    eur(amount, qrCredential(value)),
		}, tl.key)
	require.NoError(tl.e.t, err)
	return res
}

// outcome names a payment's answer: "ok", the error code, and for
// credential_invalid its reason.
func outcome(t *testing.T, res *client.CreatePaymentResponse) string {
	t.Helper()
	if res.StatusCode() == http.StatusOK {
		return "ok"
	}
	e := moneytest.APIError(t, res.Body)
	if e.Code == client.ErrorCodeCredentialInvalid {
		return fmt.Sprintf("%s/%v", e.Code, (*e.Details)["reason"])
	}
	return string(e.Code)
}

// tally runs work n times at once (i is the worker) and counts the
// outcomes each one adds.
func tally(n int, work func(i int, add func(outcome string))) map[string]int {
	var mu sync.Mutex
	seen := map[string]int{}
	add := func(o string) {
		mu.Lock()
		defer mu.Unlock()
		seen[o]++
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { work(i, add) })
	}
	wg.Wait()
	return seen
}

func TestRushHour(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long concurrent mix: make test runs it")
	}
	// A terminal's bucket refills one guess every 6 minutes here, so a slow
	// run cannot earn the guesser an extra guess.
	e := &payEnv{Env: moneytest.Start(t, func(c *config.Config) {
		c.GuessLimitPerTerminal = config.Rate{Max: 10, Window: time.Hour}
	}), t: t}
	tillKey := e.keyWith(client.ScopePaymentsWrite, client.ScopePaymentsRead)
	appKey := e.keyWith(client.ScopeQrMint)
	mint := func(walletID string) minted { return mintedOf(t, e.mintAs(walletID, appKey)) }

	t.Run("ThirtyTillsKeepPayingWhileOneGuesses", func(t *testing.T) {
		const tills, payments = 30, 4
		wallets := make([]string, tills)
		for i := range wallets {
			wallets[i] = e.wallet(10_000).ID
		}
		var guesses map[string]int
		done := make(chan struct{})
		go func() {
			defer close(done)
			guesser := till{e: e, key: tillKey, name: "till-31"}
			guesses = tally(1, func(_ int, add func(string)) {
				for i := range 100 {
					add(outcome(t, guesser.pay(fmt.Sprintf("%08d", 90_000_000+i), 100)))
				}
			})
		}()
		seen := tally(tills, func(i int, add func(string)) {
			tl := till{e: e, key: tillKey, name: fmt.Sprintf("till-%02d", i)}
			for range payments {
				add(outcome(t, tl.pay(mint(wallets[i]).ShortCode, 100)))
			}
		})
		<-done
		require.Equal(t, map[string]int{"ok": tills * payments}, seen, "every honest till paid every time")
		require.Equal(t, map[string]int{"credential_invalid/unknown": 10, "rate_limited": 90}, guesses,
			"the guesser is stopped after its terminal's 10 guesses")
		moneytest.CheckLedger(t, e.S.Pool)
	})

	t.Run("MintCollisionsAreSupersededNeverRateLimited", func(t *testing.T) {
		const workers, rounds = 32, 6
		wallets := make([]string, 100)
		for i := range wallets {
			wallets[i] = e.wallet(100_000).ID
		}
		seen := tally(workers, func(w int, add func(string)) {
			tl := till{e: e, key: tillKey, name: fmt.Sprintf("lane-%02d", w)}
			for range rounds {
				add(outcome(t, tl.pay(mint(wallets[rand.IntN(len(wallets))]).ShortCode, 100)))
			}
		})
		require.Equal(t, workers*rounds, seen["ok"]+seen["credential_invalid/superseded"], "outcomes: %v", seen)
		require.Positive(t, seen["ok"])
		moneytest.CheckLedger(t, e.S.Pool)
	})

	t.Run("TwoHundredConcurrentGuessesEvaluateTheLimit", func(t *testing.T) {
		// Check and count are one step per terminal: guesses arriving all at
		// once are evaluated one at a time, and only 10 are evaluated.
		guesser := till{e: e, key: e.keyWith(client.ScopePaymentsWrite), name: "till-burst"}
		seen := tally(200, func(i int, add func(string)) {
			add(outcome(t, guesser.pay(fmt.Sprintf("%08d", 80_000_000+i), 100)))
		})
		require.Equal(t, map[string]int{"credential_invalid/unknown": 10, "rate_limited": 190}, seen)
	})

	t.Run("RotatingTerminalIdsMeetsTheKeysCeiling", func(t *testing.T) {
		// An attacker inventing a new context.terminal_id per guess: every
		// terminal is fresh, but the key's ceiling (50 a minute) holds. The
		// ceiling refills a guess every 1.2 seconds: time stands still, so
		// a slow run cannot earn the attacker an extra one.
		e.S.Clock.Stop()
		defer e.S.Clock.Start()
		key := e.keyWith(client.ScopePaymentsWrite)
		for i := range 50 {
			rotating := till{e: e, key: key, name: fmt.Sprintf("fake-%03d", i)}
			require.Equal(t, "credential_invalid/unknown", outcome(t, rotating.pay(fmt.Sprintf("%08d", 70_000_000+i), 100)))
		}
		res := till{e: e, key: key, name: "fake-new"}.pay("70099999", 100)
		got := wantError(t, res, res.Body, http.StatusTooManyRequests, client.ErrorCodeRateLimited)
		require.Positive(t, (*got.Details)["retry_after_seconds"])
		honest := till{e: e, key: tillKey, name: "till-honest"}
		require.Equal(t, "ok", outcome(t, honest.pay(mint(e.wallet(1000).ID).ShortCode, 100)), "another key's tills still pay")
	})

	t.Run("UsedAndExpiredCodesAreNotGuesses", func(t *testing.T) {
		w := e.wallet(100_000).ID
		tl := till{e: e, key: tillKey, name: "till-double-scan"}
		code := mint(w).ShortCode
		require.Equal(t, "ok", outcome(t, tl.pay(code, 100)))
		for range 30 { // a till scanning the same code again and again
			require.Equal(t, "credential_invalid/used", outcome(t, tl.pay(code, 100)))
		}
		late := mint(w)
		// The last subtest: moving the clock cannot disturb the others. Five
		// minutes refill less than one guess of the till's bucket.
		e.S.Clock.Advance(qr.ShortCodeTTL + time.Second)
		for range 30 { // a customer showing a code too late
			require.Equal(t, "credential_invalid/expired", outcome(t, tl.pay(late.ShortCode, 100)))
		}
		require.Equal(t, "ok", outcome(t, tl.pay(mint(w).QrPayload, 100)), "the till was never limited")
	})
}
