// Package moneytest is test support for the money packages (ledger,
// wallets, grants, topup, transactions): a running server with a
// bootstrapped merchant, and factories for customers, wallets and grants
// written through the domains' own functions. Tests only.
package moneytest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/wallets"
)

// APIVersion is the version the tests speak.
const APIVersion = "2026-06-01"

// Env is a running server with a bootstrapped merchant whose first key has
// role operator and every scope but qr:mint (the till's and back office's
// key); AsWalletApp mints QR codes.
type Env struct {
	Ctx    context.Context
	S      *apptest.Server
	C      *client.ClientWithResponses
	Boot   auth.Bootstrapped
	Admin  string // the bootstrap key's secret
	Tenant Tenant

	walletAppOnce sync.Once
	walletApp     string
}

// Start runs a server on a fresh database and bootstraps a merchant.
func Start(t testing.TB, opts ...apptest.Option) *Env {
	t.Helper()
	s := apptest.Start(t, opts...)
	return On(t, s, "Test Merchant")
}

// On bootstraps another merchant on a running server.
func On(t testing.TB, s *apptest.Server, merchant string) *Env {
	t.Helper()
	ctx := context.Background()
	boot, err := s.App.Server.Auth.Bootstrap(ctx, merchant, "Test POS")
	require.NoError(t, err)
	return &Env{
		Ctx: ctx, S: s, C: s.Client, Boot: boot, Admin: boot.Key.Secret,
		Tenant: Tenant{MerchantID: boot.Merchant.ID, IntegrationID: boot.Integration.ID},
	}
}

// Key authenticates a request with an API key; Bearer with a terminal JWT.
var (
	Key    = apptest.WithKey
	Bearer = apptest.WithBearer
)

// AsAdmin authenticates with the bootstrap key: the till's and the back
// office's, which pays but never mints a QR.
func (e *Env) AsAdmin() client.RequestEditorFn { return Key(e.Admin) }

// AsWalletApp authenticates as the customer's wallet app: a key holding
// qr:mint only, made once per Env by the bootstrap key. A key that mints
// never pays (the consent rule).
func (e *Env) AsWalletApp(t testing.TB) client.RequestEditorFn {
	t.Helper()
	e.walletAppOnce.Do(func() { e.walletApp = e.NewKey(t, "", client.ScopeQrMint) })
	require.NotEmpty(t, e.walletApp, "creating the wallet app's key failed")
	return Key(e.walletApp)
}

// NewKey creates a key of the merchant's integration with these scopes and
// role ("" for integration) and returns its secret.
func (e *Env) NewKey(t testing.TB, role client.ApiKeyRole, scopes ...client.Scope) string {
	t.Helper()
	data := client.CreateApiKeyInputData{Name: "test " + NewIdemKey(), Scopes: scopes}
	if role != "" {
		data.Role = &role
	}
	res, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: NewIdemKey()},
		client.CreateApiKeyInput{Meta: Meta(), Data: data}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return *res.JSON200.Data.ApiKey
}

// Mint makes a terminal JWT of key for terminal with these scopes.
func (e *Env) Mint(t testing.TB, key, terminal string, scopes ...client.Scope) string {
	t.Helper()
	data := client.CreateTerminalTokenInputData{TerminalId: terminal}
	if len(scopes) > 0 {
		data.Scopes = &scopes
	}
	res, err := e.C.CreateTerminalTokenWithResponse(e.Ctx, &client.CreateTerminalTokenParams{},
		client.CreateTerminalTokenInput{Meta: Meta(), Data: data}, Key(key))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return *res.JSON200.Data.Token
}

// OtherIntegration creates a second integration of the merchant and returns
// its id and its first key's secret.
func (e *Env) OtherIntegration(t testing.TB) (string, string) {
	t.Helper()
	in, key, err := e.S.App.Server.Auth.CreateIntegration(e.Ctx, e.Tenant.MerchantID, "Other POS")
	require.NoError(t, err)
	return in.ID, key.Secret
}

// Meta is the request meta block.
func Meta() client.RequestMeta { return client.RequestMeta{ApiVersion: APIVersion} }

var idem atomic.Int64

// NewIdemKey is a fresh Idempotency-Key.
func NewIdemKey() string { return fmt.Sprintf("t-%d-%d", time.Now().UnixNano(), idem.Add(1)) }

// Tenant is a merchant and one of its integrations.
type Tenant struct {
	MerchantID    string
	IntegrationID string
}

// NewTenant writes a merchant and an integration straight to the database,
// for domain tests that run without a server.
func NewTenant(t testing.TB, pool *pgxpool.Pool) Tenant {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	m, err := q.MerchantInsert(ctx, db.MerchantInsertParams{ID: ids.New(ids.Merchant), Name: "Merchant"})
	require.NoError(t, err)
	in, err := q.IntegrationInsert(ctx, db.IntegrationInsertParams{ID: ids.New(ids.Integration), MerchantID: m.ID, Name: "POS"})
	require.NoError(t, err)
	return Tenant{MerchantID: m.ID, IntegrationID: in.ID}
}

var phones atomic.Int64

// NewPhone is a fresh E.164 number.
func NewPhone() string { return fmt.Sprintf("+4915%09d", phones.Add(1)) }

// WalletOpts tune Wallet; the zero value is a verified EUR wallet.
type WalletOpts struct {
	Currency string
	Pending  bool
}

// Wallet creates a customer and a wallet for the tenant.
func Wallet(t testing.TB, pool *pgxpool.Pool, tn Tenant, o WalletOpts) wallets.Wallet {
	t.Helper()
	if o.Currency == "" {
		o.Currency = "EUR"
	}
	status := wallets.StatusVerified
	if o.Pending {
		status = wallets.StatusPendingProof
	}
	w, err := dbx.InTxValue(context.Background(), pool, func(ctx context.Context, q *db.Queries) (wallets.Wallet, error) {
		c, err := customers.Create(ctx, q, customers.NewCustomer{MerchantID: tn.MerchantID, Phone: NewPhone()})
		if err != nil {
			return wallets.Wallet{}, err
		}
		return wallets.Create(ctx, q, wallets.NewWallet{MerchantID: tn.MerchantID, CustomerID: c.ID, Currency: o.Currency, Status: status, Now: time.Now()})
	})
	require.NoError(t, err)
	return w
}

// Grant issues a grant of amount on the wallet, expiring ttl after the wall
// clock: a test clock (clock.Clock) reads the same until the test advances it.
func Grant(t testing.TB, pool *pgxpool.Pool, tn Tenant, walletID string, amount int64, ttl time.Duration, locked bool) grants.Grant {
	t.Helper()
	now := time.Now()
	g, err := dbx.InTxValue(context.Background(), pool, func(ctx context.Context, q *db.Queries) (grants.Grant, error) {
		g, _, err := grants.Issue(ctx, q, grants.NewGrant{
			MerchantID: tn.MerchantID, IntegrationID: tn.IntegrationID, WalletID: walletID,
			Source: grants.SourceWelcome, Amount: amount, ExpiresAt: now.Add(ttl), Locked: locked,
		}, now)
		return g, err
	})
	require.NoError(t, err)
	return g
}
