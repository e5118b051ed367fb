package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/feddi/partner-api/gen/client"
)

// APIVersion is the api_version the load test speaks.
const APIVersion = "2026-06-01"

// API calls the operations the scenarios use through the generated client's
// request builders, and reads every answer with ReadOutcome (one envelope
// parse, no typed response decoding on the hot path).
type API struct {
	c    *client.Client
	seq  atomic.Int64
	run  string // prefix that keeps idempotency keys and references unique
	meta client.RequestMeta
}

// NewAPI returns an API at baseURL whose connection pool keeps an idle
// connection for each of up to conns concurrent callers.
func NewAPI(baseURL, runID string, conns int) (*API, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}}
	c, err := client.NewClient(baseURL, client.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("building the API client: %w", err)
	}
	return &API{c: c, run: runID, meta: client.RequestMeta{ApiVersion: APIVersion}}, nil
}

// Key authenticates a call with an API key.
func Key(secret string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Api-Key", secret)
		return nil
	}
}

// Unique returns a fresh key for Idempotency-Key headers and settlement
// references.
func (a *API) Unique() string { return fmt.Sprintf("%s-%d", a.run, a.seq.Add(1)) }

// MintQr mints a QR for the wallet (the customer's wallet app).
func (a *API) MintQr(ctx context.Context, as client.RequestEditorFn, walletID string) Outcome {
	return ReadOutcome(a.c.MintQr(ctx, &client.MintQrParams{IdempotencyKey: a.Unique()},
		client.MintQrRequest{Meta: a.meta, Data: client.MintQrRequestData{WalletId: walletID}}, as))
}

// PayByQr pays amount (EUR minor units) with a QR payload or short code,
// captured automatically (the till).
func (a *API) PayByQr(ctx context.Context, as client.RequestEditorFn, value string, amount int64) Outcome {
	capture := client.CaptureModeAutomatic
	return ReadOutcome(a.c.CreatePayment(ctx, &client.CreatePaymentParams{IdempotencyKey: a.Unique()},
		client.CreatePaymentRequest{Meta: a.meta, Data: client.CreatePaymentRequestData{
			AmountMinor: amount, Currency: "EUR", Capture: &capture,
			Credential: client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: &value},
		}}, as))
}

// Topup confirms a settled top-up of amount (EUR minor units) with a
// settlement reference of its own.
func (a *API) Topup(ctx context.Context, as client.RequestEditorFn, walletID string, amount int64) Outcome {
	key := a.Unique()
	return ReadOutcome(a.c.ConfirmTopup(ctx, &client.ConfirmTopupParams{IdempotencyKey: key},
		client.ConfirmTopupRequest{Meta: a.meta, Data: client.ConfirmTopupRequestData{
			WalletId: walletID, AmountMinor: amount, Currency: "EUR", Provider: "adyen", SettlementReference: "settle-" + key,
		}}, as))
}

// Identify resolves a customer by phone.
func (a *API) Identify(ctx context.Context, as client.RequestEditorFn, phone string) Outcome {
	return ReadOutcome(a.c.IdentifyCustomer(ctx, &client.IdentifyCustomerParams{},
		client.IdentifyCustomerRequest{Meta: a.meta, Data: client.IdentifyCustomerRequestData{
			Credential: client.IdentifyCredential{Type: client.IdentifyCredentialTypePhone, Value: phone},
		}}, as))
}

// Lookup finds a customer by phone with GET /customers/lookup.
func (a *API) Lookup(ctx context.Context, as client.RequestEditorFn, phone string) Outcome {
	return ReadOutcome(a.c.LookupCustomer(ctx, &client.LookupCustomerParams{Phone: &phone}, as))
}
