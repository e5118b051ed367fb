package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/webhooks"
)

// These tests run the binary's commands in-process with its environment,
// so they set variables and cannot run in parallel.

func TestServeInLiveNeedsAKEK(t *testing.T) {
	url := testdb.URL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("FEDDI_ENV", "live")
	t.Setenv("FEDDI_ADDR", "127.0.0.1:0")
	t.Setenv("FEDDI_ADMIN_ADDR", "127.0.0.1:0") // never the default port: tests run side by side
	t.Setenv("FEDDI_KEK_PREVIOUS", "")

	t.Run("RefusesToStartWithoutFEDDI_KEK", func(t *testing.T) {
		t.Setenv("FEDDI_KEK", "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := run(ctx, []string{"serve"})
		require.ErrorContains(t, err, "FEDDI_KEK is required in live")
	})
	t.Run("StartsWithIt", func(t *testing.T) {
		t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString(apptest.KEK))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		require.NoError(t, run(ctx, []string{"serve"}), "serves until stopped")
	})
	t.Run("RefusesAKEKThatIsNot32Bytes", func(t *testing.T) {
		t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString([]byte("short")))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.ErrorContains(t, run(ctx, []string{"serve"}), "FEDDI_KEK must be 32 bytes")
	})
}

// TestServeBindsBeforeItRunsJobs: a second replica on a taken port fails
// at once, without having started a River client (no leader was elected,
// no job was worked).
func TestServeBindsBeforeItRunsJobs(t *testing.T) {
	pool := testdb.New(t)
	taken, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = taken.Close() }()
	t.Setenv("DATABASE_URL", pool.Config().ConnString())
	t.Setenv("FEDDI_ENV", "sandbox")
	t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString(apptest.KEK))
	t.Setenv("FEDDI_KEK_PREVIOUS", "")
	t.Setenv("FEDDI_ADDR", taken.Addr().String())
	t.Setenv("FEDDI_ADMIN_ADDR", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.ErrorContains(t, run(ctx, []string{"serve"}), "listening on "+taken.Addr().String())
	var leaders int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_leader`).Scan(&leaders))
	require.Zero(t, leaders, "no River client ran")
}

// cliEnv is two replicas on one database and the environment that points
// the CLI at it.
type cliEnv struct {
	ctx      context.Context
	one, two *apptest.Server
	tenant   apptest.Tenant
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	pool := testdb.New(t)
	one := apptest.StartOn(t, pool)
	e := &cliEnv{ctx: context.Background(), one: one, two: apptest.StartOn(t, pool), tenant: one.Bootstrap(t, "Leaky Merchant")}
	t.Setenv("DATABASE_URL", pool.Config().ConnString())
	t.Setenv("FEDDI_ENV", "sandbox")
	t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString(apptest.KEK))
	t.Setenv("FEDDI_KEK_PREVIOUS", "")
	return e
}

func (e *cliEnv) mint(t *testing.T, s *apptest.Server) string {
	t.Helper()
	res, err := s.Client.CreateTerminalTokenWithResponse(e.ctx, &client.CreateTerminalTokenParams{},
		client.CreateTerminalTokenInput{Meta: client.RequestMeta{ApiVersion: apptest.APIVersion}, Data: client.CreateTerminalTokenInputData{TerminalId: "till-1"}},
		apptest.WithKey(e.tenant.APIKey))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return *res.JSON200.Data.Token
}

// verdict is what a replica says of a token: the status of a call made with
// it, and validate's reason ("" when valid).
func (e *cliEnv) verdict(t *testing.T, s *apptest.Server, token string) (int, string) {
	t.Helper()
	caps, err := s.Client.GetCapabilitiesWithResponse(e.ctx, &client.GetCapabilitiesParams{}, apptest.WithBearer(token))
	require.NoError(t, err)
	v, err := s.Client.ValidateTerminalTokenWithResponse(e.ctx, &client.ValidateTerminalTokenParams{}, apptest.WithBearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, v.StatusCode(), "body: %s", v.Body)
	if v.JSON200.Data.Reason == nil {
		return caps.StatusCode(), ""
	}
	return caps.StatusCode(), string(*v.JSON200.Data.Reason)
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(header), `"kid":"`)
	require.True(t, ok)
	kid, _, _ := strings.Cut(rest, `"`)
	return kid
}

func jwksKids(t *testing.T, e *cliEnv, s *apptest.Server) []string {
	t.Helper()
	res, err := s.Client.GetJwksWithResponse(e.ctx, &client.GetJwksParams{})
	require.NoError(t, err)
	var kids []string
	for _, k := range res.JSON200.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestRotateSigningRevokePreviousKillsTokensOnEveryReplica(t *testing.T) {
	e := newCLIEnv(t)
	leaked := e.mint(t, e.one)
	for _, s := range []*apptest.Server{e.one, e.two} {
		status, reason := e.verdict(t, s, leaked)
		require.Equal(t, http.StatusOK, status, "every replica has verified (and cached) the key")
		require.Empty(t, reason)
	}

	require.NoError(t, run(e.ctx, []string{"keys", "rotate-signing", "--revoke-previous"}))

	for name, s := range map[string]*apptest.Server{"One": e.one, "Two": e.two} {
		t.Run("ReplicaRefusesTheLeakedKeysTokensAtOnce"+name, func(t *testing.T) {
			status, reason := e.verdict(t, s, leaked)
			require.Equal(t, http.StatusUnauthorized, status)
			require.Equal(t, string(client.TokenInvalidReasonBadSignature), reason)
			require.NotContains(t, jwksKids(t, e, s), kidOf(t, leaked))
		})
		t.Run("ReplicaAcceptsTokensOfTheNewKey"+name, func(t *testing.T) {
			fresh := e.mint(t, s)
			require.NotEqual(t, kidOf(t, leaked), kidOf(t, fresh))
			status, reason := e.verdict(t, s, fresh)
			require.Equal(t, http.StatusOK, status)
			require.Empty(t, reason)
		})
	}
	t.Run("APlainRotationKeepsTheOldKeyWithinItsWindow", func(t *testing.T) {
		before := e.mint(t, e.one)
		require.NoError(t, run(e.ctx, []string{"keys", "rotate-signing"}))
		status, reason := e.verdict(t, e.two, before)
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, reason)
	})
}

func TestRotateKEK(t *testing.T) {
	e := newCLIEnv(t)
	token := e.mint(t, e.one)
	// A webhook endpoint's secret, sealed with the same KEK.
	endpoint, err := e.one.App.Server.Webhooks.Create(e.ctx, webhooks.NewEndpoint{
		MerchantID: e.tenant.MerchantID, IntegrationID: e.tenant.IntegrationID, URL: "https://pos.example.com/hook",
		EventTypes: []events.Type{events.GrantIssued},
	})
	require.NoError(t, err)
	newKEK := make([]byte, 32)
	_, err = rand.Read(newKEK)
	require.NoError(t, err)

	t.Run("NeedsTheNewKEK", func(t *testing.T) {
		t.Setenv("FEDDI_KEK", "")
		require.ErrorContains(t, run(e.ctx, []string{"keys", "rotate-kek"}), "FEDDI_KEK")
	})

	t.Setenv("FEDDI_KEK", base64.StdEncoding.EncodeToString(newKEK))
	t.Setenv("FEDDI_KEK_PREVIOUS", base64.StdEncoding.EncodeToString(apptest.KEK))
	require.NoError(t, run(e.ctx, []string{"keys", "rotate-kek"}))

	t.Run("EveryKeyOpensWithTheNewKEKOnly", func(t *testing.T) {
		rows, err := e.one.Pool.Query(e.ctx, `SELECT kid, sealed_private_key FROM signing_keys`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var kid string
			var sealed []byte
			require.NoError(t, rows.Scan(&kid, &sealed))
			require.True(t, opens(t, newKEK, kid, sealed), "key %s opens with the new KEK", kid)
			require.False(t, opens(t, apptest.KEK, kid, sealed), "key %s still opens with the old KEK", kid)
		}
		require.NoError(t, rows.Err())
		var sealed []byte
		require.NoError(t, e.one.Pool.QueryRow(e.ctx, `SELECT secret_sealed FROM webhook_endpoints WHERE id = $1`, endpoint.ID).Scan(&sealed))
		require.True(t, opens(t, newKEK, endpoint.ID, sealed), "the webhook secret opens with the new KEK")
		require.False(t, opens(t, apptest.KEK, endpoint.ID, sealed))
	})
	t.Run("AReplicaWithOnlyTheNewKEKVerifiesAndSigns", func(t *testing.T) {
		s := apptest.StartOn(t, e.one.Pool, func(c *config.Config) { c.KEK = newKEK })
		status, reason := e.verdict(t, s, token)
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, reason)
		status, _ = e.verdict(t, s, e.mint(t, s))
		require.Equal(t, http.StatusOK, status)
	})
}

func opens(t *testing.T, kek []byte, kid string, sealed []byte) bool {
	t.Helper()
	block, err := aes.NewCipher(kek)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	_, err = gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(kid))
	return err == nil
}
