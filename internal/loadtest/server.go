package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Server is a `feddi serve` subprocess.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
}

// PID is the server process's id, for its CPU and memory figures.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Feddi runs the feddi binary on one database.
type Feddi struct {
	Bin         string
	DatabaseURL string
	Log         io.Writer // the subprocesses' stderr
}

func (f Feddi) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, f.Bin, args...)
	cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + f.DatabaseURL, "FEDDI_ENV=sandbox"}, env...)...)
	cmd.Stderr = f.Log
	return cmd
}

// Migrate runs `feddi migrate`.
func (f Feddi) Migrate(ctx context.Context) error {
	if err := f.command(ctx, nil, "migrate").Run(); err != nil {
		return fmt.Errorf("feddi migrate: %w", err)
	}
	return nil
}

// Bootstrapped is what `feddi bootstrap --json` prints.
type Bootstrapped struct {
	MerchantID string `json:"merchant_id"`
	APIKey     string `json:"api_key"`
}

// Bootstrap runs `feddi bootstrap`: a merchant and an operator key holding
// every scope but qr:mint.
func (f Feddi) Bootstrap(ctx context.Context) (Bootstrapped, error) {
	out, err := f.command(ctx, nil, "bootstrap", "--merchant", "Load Merchant", "--integration", "Load POS", "--json").Output()
	if err != nil {
		return Bootstrapped{}, fmt.Errorf("feddi bootstrap: %w", err)
	}
	var b Bootstrapped
	if err := json.Unmarshal(out, &b); err != nil || b.APIKey == "" {
		return Bootstrapped{}, fmt.Errorf("feddi bootstrap printed %q", out)
	}
	return b, nil
}

// capacityLimits lift the limits that cap what one integration may do
// however honest: the load test measures capacity, and its setup enrolls a
// thousand wallets (a thousand SMS to one country) while its identify
// scenario looks phones up far faster than any till. The guess limits stay:
// the scenarios measure them.
var capacityLimits = []string{
	"FEDDI_LOOKUP_LIMIT_PER_TERMINAL=1000000/1m",
	"FEDDI_SMS_LIMIT_PER_INTEGRATION=1000000/1h",
	"FEDDI_SMS_LIMIT_PER_COUNTRY=1000000/1h",
}

// Serve starts `feddi serve` on a free port of 127.0.0.1 and waits until
// GET /health answers.
func (f Feddi) Serve(ctx context.Context) (*Server, error) {
	port, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := f.command(context.WithoutCancel(ctx), append([]string{"FEDDI_ADDR=" + addr, "FEDDI_ADMIN_ADDR=127.0.0.1:0"}, capacityLimits...), "serve")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting feddi serve: %w", err)
	}
	s := &Server{URL: "http://" + addr, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.awaitHealthy(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func freePort(ctx context.Context) (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) awaitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("feddi serve exited before it served: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health", http.NoBody)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("feddi serve did not become healthy within 30 s")
}

// Stop sends SIGTERM and waits for the server to drain and exit.
func (s *Server) Stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping feddi serve: %w", err)
	}
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("feddi serve exited with %w", err)
		}
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("feddi serve did not stop within 30 s; killed")
	}
}
