package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feddi/partner-api/gen/client"
)

// Wallet is an enrolled, verified and funded customer wallet.
type Wallet struct {
	ID    string
	Phone string
}

// Fixture is what the scenarios run on: one merchant, its two keys and
// its wallets.
type Fixture struct {
	// WalletApp holds qr:mint only: the customer's app mints QR codes.
	WalletApp client.RequestEditorFn
	// Till holds everything a till and its back office need except qr:mint:
	// a key that can both mint and pay would let a till pay without the
	// customer, and the server refuses one (the consent rule).
	Till    client.RequestEditorFn
	Wallets []Wallet
	admin   client.RequestEditorFn // the bootstrap key, which makes the others
}

// tillScopes are the scopes of the till key.
var tillScopes = []client.Scope{
	client.ScopePaymentsWrite, client.ScopePaymentsRead, client.ScopeCustomersRead,
	client.ScopeCustomersWrite, client.ScopeTopupWrite, client.ScopeConfigWrite,
}

// fundingMinor is what each wallet is topped up with before the scenarios:
// enough for every payment of a run, far below the balance ceiling.
const fundingMinor = 1_000_000_000

// Setup creates the two keys from the bootstrap key (an operator, which
// may grant the wallet app qr:mint without holding it), configures reload
// bonuses so that every top-up earns one, and enrolls, verifies and funds
// n wallets through the API, workers at a time.
func Setup(ctx context.Context, a *API, adminKey string, n, workers int) (*Fixture, error) {
	admin := Key(adminKey)
	appKey, err := a.createKey(ctx, admin, "load wallet app", []client.Scope{client.ScopeQrMint})
	if err != nil {
		return nil, err
	}
	fx := &Fixture{WalletApp: Key(appKey), Wallets: make([]Wallet, n), admin: admin}
	if err := a.NewTill(ctx, fx); err != nil {
		return nil, err
	}
	if err := a.everyTopupEarnsBonus(ctx, fx.Till); err != nil {
		return nil, err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && errs[w] == nil; i = int(next.Add(1) - 1) {
				fx.Wallets[i], errs[w] = a.enrollFunded(ctx, fx.Till, fmt.Sprintf("+4915%09d", i+1))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fx, nil
}

// NewTill gives the tills a key of their own. Each scenario starts with
// one: the server counts credential guesses per API key in fixed minutes,
// so a scenario that trips the limit would otherwise lock the next one out
// and measure the previous scenario's collisions.
func (a *API) NewTill(ctx context.Context, fx *Fixture) error {
	key, err := a.createKey(ctx, fx.admin, "load till", tillScopes)
	if err != nil {
		return err
	}
	fx.Till = Key(key)
	return nil
}

func (a *API) createKey(ctx context.Context, as client.RequestEditorFn, name string, scopes []client.Scope) (string, error) {
	req, err := client.NewCreateApiKeyRequest(a.url, &client.CreateApiKeyParams{IdempotencyKey: a.Unique()},
		client.CreateApiKeyInput{Meta: a.meta, Data: client.CreateApiKeyInputData{Name: name, Scopes: scopes}})
	out := a.send(ctx, as, req, err)
	var key client.ApiKeyWithSecret
	if err := decode(out, &key); err != nil {
		return "", fmt.Errorf("creating the key %q: %w", name, err)
	}
	if key.ApiKey == nil {
		return "", fmt.Errorf("creating the key %q: no secret in the answer", name)
	}
	return *key.ApiKey, nil
}

// everyTopupEarnsBonus sets one tier from the smallest top-up: 5%, capped.
func (a *API) everyTopupEarnsBonus(ctx context.Context, as client.RequestEditorFn) error {
	bps, maxBonus := 500, int64(10_000)
	req, err := client.NewSetReloadBonusConfigRequest(a.url, &client.SetReloadBonusConfigParams{IdempotencyKey: a.Unique()},
		client.SetReloadBonusConfigInput{Meta: a.meta, Data: client.SetReloadBonusConfigInputData{
			Currency: "EUR", Active: true, BonusExpiresInDays: 90,
			Tiers: []client.ReloadBonusTierInput{{MinTopupMinor: 1, BonusBps: &bps, MaxBonusMinor: &maxBonus}},
		}})
	if err := decode(a.send(ctx, as, req, err), nil); err != nil {
		return fmt.Errorf("configuring reload bonuses: %w", err)
	}
	return nil
}

// smsCode reads the 6-digit code of an enrollment SMS.
var smsCode = regexp.MustCompile(`code is (\d{6})\.`)

// enrollFunded enrolls the phone, reads the SMS the sandbox kept, verifies
// the wallet with its code and funds it.
func (a *API) enrollFunded(ctx context.Context, till client.RequestEditorFn, phone string) (Wallet, error) {
	var in client.EnrollmentInitiation
	req, err := client.NewInitiateEnrollmentRequest(a.url, &client.InitiateEnrollmentParams{IdempotencyKey: a.Unique()},
		client.InitiateEnrollmentInput{Meta: a.meta, Data: client.InitiateEnrollmentInputData{Phone: phone}})
	if err := decode(a.send(ctx, till, req, err), &in); err != nil {
		return Wallet{}, fmt.Errorf("enrolling %s: %w", phone, err)
	}
	code, err := a.awaitCode(ctx, till, phone)
	if err != nil {
		return Wallet{}, err
	}
	id := in.Verification.VerificationId
	req, err = client.NewVerifyEnrollmentRequest(a.url, &client.VerifyEnrollmentParams{IdempotencyKey: a.Unique()},
		client.VerifyEnrollmentInput{Meta: a.meta, Data: client.VerifyEnrollmentInputData{VerificationId: &id, Code: &code}})
	if err := decode(a.send(ctx, till, req, err), nil); err != nil {
		return Wallet{}, fmt.Errorf("verifying %s: %w", phone, err)
	}
	if err := decode(a.Topup(ctx, Till{Auth: till}, in.Wallet.Id, fundingMinor), nil); err != nil {
		return Wallet{}, fmt.Errorf("funding %s: %w", in.Wallet.Id, err)
	}
	return Wallet{ID: in.Wallet.Id, Phone: phone}, nil
}

// awaitCode polls GET /sandbox/messages until the server's SMS job has
// delivered the enrollment code.
func (a *API) awaitCode(ctx context.Context, till client.RequestEditorFn, phone string) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var list client.SandboxMessageList
		req, err := client.NewListSandboxMessagesRequest(a.url, &client.ListSandboxMessagesParams{Phone: phone})
		if err := decode(a.send(ctx, till, req, err), &list); err != nil {
			return "", fmt.Errorf("reading the SMS to %s: %w", phone, err)
		}
		for _, m := range list.Items {
			if c := smsCode.FindStringSubmatch(m.Body); c != nil {
				return c[1], nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no enrollment SMS to %s within a minute", phone)
}

// decode fails on an unsuccessful outcome and reads its data into v (nil
// to ignore it).
func decode(out Outcome, v any) error {
	if !out.OK() {
		return fmt.Errorf("status %d %s %s", out.Status, out.ErrorKey(), out.Broken)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(out.Data, v)
}
