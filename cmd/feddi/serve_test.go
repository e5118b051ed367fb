package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestSIGTERMTurnsNotReadyFirstThenDrains: on SIGTERM (the end of serve's
// context) /readyz answers 503 at once, while a request already in flight
// still gets its whole response; then serve returns.
func TestSIGTERMTurnsNotReadyFirstThenDrains(t *testing.T) {
	cfg := config.Defaults()
	cfg.DatabaseURL = testdb.URL(t)
	cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0" // never the default ports: tests run side by side
	cfg.KEK = apptest.KEK
	cfg.ShutdownTimeout = time.Minute
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	started := make(chan listening, 1)
	done := make(chan error, 1)
	go func() { done <- serveWith(ctx, cfg, logger, func(l listening) { started <- l }) }()
	var where listening
	select {
	case where = <-started:
	case err := <-done:
		t.Fatalf("serve ended before serving: %v", err)
	}
	readyz := func() int {
		res, err := http.Get("http://" + where.admin.String() + "/readyz")
		require.NoError(t, err)
		_ = res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, readyz())

	// A request in flight: its handler is reading the body (the server
	// answered "100 Continue"), half of which has not been sent.
	const body = `{"meta":{},"data":{}}`
	conn, err := net.Dial("tcp", where.public.String())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = fmt.Fprintf(conn, "POST /payments HTTP/1.1\r\nHost: feddi\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	require.NoError(t, err)
	_, err = io.WriteString(conn, body[:8])
	require.NoError(t, err)
	replies := bufio.NewReader(conn)
	status, err := replies.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, status, "100 Continue", "the handler reads the body")
	blank, err := replies.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "\r\n", blank)

	sigterm()
	require.Eventually(t, func() bool { return readyz() == http.StatusServiceUnavailable }, 10*time.Second, 10*time.Millisecond,
		"not ready while it drains")

	_, err = io.WriteString(conn, body[8:])
	require.NoError(t, err)
	res, err := http.ReadResponse(replies, nil)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	var env struct {
		OK    bool `json:"ok"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&env), "the in-flight request gets its whole response")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Equal(t, "unauthenticated", env.Error.Code)

	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("serve did not return after draining")
	}
}
