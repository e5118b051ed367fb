package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/feddi/partner-api/gen/client"
)

// apiVersion is the api_version the load test speaks.
const apiVersion = "2026-06-01"

// API calls the operations the scenarios use. Requests are built by the
// generated client's request builders (typed parameters and bodies); every
// answer is read once, by ParseEnvelope, rather than decoded into the
// generated response types as well: the load generator shares the cores
// with the server it measures.
type API struct {
	url  string
	hc   *http.Client
	seq  atomic.Int64
	run  string // prefix that keeps idempotency keys and references unique
	meta client.RequestMeta
}

// NewAPI returns an API at baseURL whose connection pool keeps an idle
// connection for each of up to conns concurrent callers.
func NewAPI(baseURL, runID string, conns int) *API {
	return &API{
		url:  baseURL,
		hc:   &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}},
		run:  runID,
		meta: client.RequestMeta{ApiVersion: apiVersion},
	}
}

// send authenticates and sends a request a builder made (or its error) and
// reads the answer.
func (a *API) send(ctx context.Context, as client.RequestEditorFn, req *http.Request, err error) Outcome {
	if err != nil {
		return Outcome{Broken: fmt.Sprintf("building the request: %v", err)}
	}
	req = req.WithContext(ctx)
	if err := as(ctx, req); err != nil {
		return Outcome{Broken: fmt.Sprintf("authenticating the request: %v", err)}
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return Outcome{Broken: fmt.Sprintf("transport: %v", err)}
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return Outcome{Status: res.StatusCode, Broken: fmt.Sprintf("reading the body: %v", err)}
	}
	return ParseEnvelope(res.StatusCode, res.Header.Get("Content-Type"), body)
}

// Key authenticates a call with an API key.
func Key(secret string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Api-Key", secret)
		return nil
	}
}

// Till is who sends a till's request: the till key and the terminal.
type Till struct {
	Auth client.RequestEditorFn
	// Terminal goes in context.terminal_id: an API-key caller that sends
	// none is one terminal to the guess limits, which then count every
	// till's stale QR scans together. "" sends no context.
	Terminal string
}

func (t Till) context() *client.RequestContext {
	if t.Terminal == "" {
		return nil
	}
	return &client.RequestContext{TerminalId: &t.Terminal}
}

// Unique returns a fresh key for Idempotency-Key headers and settlement
// references.
func (a *API) Unique() string { return fmt.Sprintf("%s-%d", a.run, a.seq.Add(1)) }

// MintQr mints a QR for the wallet (the customer's wallet app).
func (a *API) MintQr(ctx context.Context, as client.RequestEditorFn, walletID string) Outcome {
	req, err := client.NewMintQrRequest(a.url, &client.MintQrParams{IdempotencyKey: a.Unique()},
		client.MintQrInput{Meta: a.meta, Data: client.MintQrInputData{WalletId: walletID}})
	return a.send(ctx, as, req, err)
}

// PayByQr pays amount (EUR minor units) with a QR payload or short code,
// captured automatically (the till).
func (a *API) PayByQr(ctx context.Context, at Till, value string, amount int64) Outcome {
	capture := client.CaptureModeAutomatic
	req, err := client.NewCreatePaymentRequest(a.url, &client.CreatePaymentParams{IdempotencyKey: a.Unique()},
		client.CreatePaymentInput{Meta: a.meta, Context: at.context(), Data: client.CreatePaymentInputData{
			AmountMinor: amount, Currency: "EUR", Capture: &capture,
			Credential: client.PaymentCredential{Type: client.PaymentCredentialTypeQr, Value: &value},
		}})
	return a.send(ctx, at.Auth, req, err)
}

// Topup confirms a settled top-up of amount (EUR minor units) with a
// settlement reference of its own.
func (a *API) Topup(ctx context.Context, at Till, walletID string, amount int64) Outcome {
	key := a.Unique()
	req, err := client.NewConfirmTopupRequest(a.url, &client.ConfirmTopupParams{IdempotencyKey: key},
		client.ConfirmTopupInput{Meta: a.meta, Context: at.context(), Data: client.ConfirmTopupInputData{
			WalletId: walletID, AmountMinor: amount, Currency: "EUR", Provider: "adyen", SettlementReference: "settle-" + key,
		}})
	return a.send(ctx, at.Auth, req, err)
}

// Identify resolves a customer by phone.
func (a *API) Identify(ctx context.Context, at Till, phone string) Outcome {
	req, err := client.NewIdentifyCustomerRequest(a.url, &client.IdentifyCustomerParams{},
		client.IdentifyCustomerInput{Meta: a.meta, Context: at.context(), Data: client.IdentifyCustomerInputData{
			Credential: client.IdentifyCredential{Type: client.IdentifyCredentialTypePhone, Value: phone},
		}})
	return a.send(ctx, at.Auth, req, err)
}

// Lookup finds a customer by phone with GET /customers/lookup (a GET has
// no body, so no context.terminal_id).
func (a *API) Lookup(ctx context.Context, at Till, phone string) Outcome {
	req, err := client.NewLookupCustomerRequest(a.url, &client.LookupCustomerParams{Phone: &phone})
	return a.send(ctx, at.Auth, req, err)
}
