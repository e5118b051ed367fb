package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestServeDrainsOnShutdown stops a serving replica (the context main cancels
// on SIGTERM) while tills keep topping up one wallet, and one till is half
// way through sending its request. The request in flight finishes with its
// answer; new connections are refused; no till sees a request cut (every
// failure is a refused connection, never a reset or a lost answer); and the
// wallet holds exactly the top-ups that were answered 200.
func TestServeDrainsOnShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("a concurrent load against a real server: make test runs it")
	}
	pool := testdb.New(t)
	env := moneytest.On(t, apptest.StartOn(t, pool), "Drain Merchant")
	wallet := moneytest.Wallet(t, pool, env.Tenant, moneytest.WalletOpts{})
	addr := freeAddr(t)
	t.Setenv("DATABASE_URL", pool.Config().ConnString())
	t.Setenv("FEDDI_ENV", "sandbox")
	t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString(apptest.KEK))
	t.Setenv("FEDDI_KEK_PREVIOUS", "")
	t.Setenv("FEDDI_ADDR", addr)
	t.Setenv("FEDDI_ADMIN_ADDR", "")

	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	served := make(chan error, 1)
	go func() { served <- run(ctx, []string{"serve"}) }()
	base := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/health")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "the replica starts serving")

	c, err := client.NewClientWithResponses(base)
	require.NoError(t, err)
	topup := func(ctx context.Context) (*client.ConfirmTopupResponse, error) {
		return c.ConfirmTopupWithResponse(ctx, &client.ConfirmTopupParams{IdempotencyKey: moneytest.NewIdemKey()}, client.ConfirmTopupInput{
			Meta: moneytest.Meta(),
			Data: client.ConfirmTopupInputData{WalletId: wallet.ID, AmountMinor: 1, Currency: "EUR", Provider: "adyen", SettlementReference: "ref-" + moneytest.NewIdemKey()},
		}, env.AsAdmin())
	}

	// The till in the middle of its request: headers sent, body still coming.
	body, finish := io.Pipe()
	slow := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/topup/confirm", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", env.Admin)
		req.Header.Set("Idempotency-Key", moneytest.NewIdemKey())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("the request in flight was cut: %v", err)
			slow <- nil
			return
		}
		slow <- res
	}()
	_, err = fmt.Fprintf(finish, `{"meta":{"api_version":%q},"data":{"wallet_id":%q,`, moneytest.APIVersion, wallet.ID)
	require.NoError(t, err)

	// Tills at full speed until the replica is gone.
	var answered atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				res, err := topup(context.Background())
				if err != nil {
					if !isRefused(err) {
						t.Errorf("a request was cut instead of refused: %v", err)
					}
					return
				}
				if res.StatusCode() != http.StatusOK {
					t.Errorf("a top-up during shutdown answered %d: %s", res.StatusCode(), res.Body)
					return
				}
				answered.Add(1)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	sigterm()

	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		_ = conn.Close()
		return false
	}, 30*time.Second, 20*time.Millisecond, "new connections are refused while a request is still in flight")
	select {
	case err := <-served:
		t.Fatalf("the replica stopped before its request in flight finished: %v", err)
	default:
	}

	_, err = io.WriteString(finish, `"amount_minor":1,"currency":"EUR","provider":"adyen","settlement_reference":"ref-slow"}}`)
	require.NoError(t, err)
	require.NoError(t, finish.Close())
	res := <-slow
	require.NotNil(t, res)
	defer func() { _ = res.Body.Close() }()
	got, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "the request in flight is answered: %s", got)
	answered.Add(1)

	wg.Wait()
	select {
	case err := <-served:
		require.NoError(t, err, "serve returns cleanly after draining")
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not return after draining")
	}

	var topups, balance int64
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*), coalesce(sum(amount_minor), 0) FROM ledger_transactions WHERE wallet_id = $1 AND type = 'topup'`, wallet.ID).Scan(&topups, &balance))
	require.Greater(t, answered.Load(), int64(1))
	require.Equal(t, answered.Load(), topups, "every answered top-up took effect, and nothing else did")
	require.Equal(t, answered.Load(), balance)
	moneytest.CheckLedger(t, pool)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// isRefused is a connection the server did not accept, as opposed to one it
// accepted and then dropped with the request unanswered.
func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || strings.Contains(err.Error(), "connection refused")
}
