package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/feddi/partner-api/gen/client"
)

// everyNth is client i's share of the wallets when each client has its own.
func everyNth(ws []Wallet, i, clients int) []Wallet {
	var out []Wallet
	for j := i; j < len(ws); j += clients {
		out = append(out, ws[j])
	}
	return out
}

// till is client i's till: the scenario's till key and a terminal id of
// its own.
func (env *Env) till(i int) Till {
	return Till{Auth: env.Fx.Till, Terminal: fmt.Sprintf("till-%02d", i+1)}
}

func newRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
}

func (env *Env) pairs(walletsOf func(client, clients int) []Wallet) func(context.Context, int) ([]Worker, error) {
	return func(_ context.Context, clients int) ([]Worker, error) {
		workers := make([]Worker, clients)
		for i := range workers {
			ws, rng, till := walletsOf(i, clients), newRand(i), env.till(i)
			if len(ws) == 0 {
				return nil, fmt.Errorf("client %d has no wallet: enroll more wallets", i)
			}
			workers[i] = func(ctx context.Context) Unit { return env.mintAndPay(ctx, till, ws[rng.IntN(len(ws))]) }
		}
		return workers, nil
	}
}

// mintAndPay is the customer's app minting a QR and the till paying with it.
func (env *Env) mintAndPay(ctx context.Context, till Till, w Wallet) Unit {
	minted := env.API.MintQr(ctx, env.Fx.WalletApp, w.ID)
	if !minted.OK() {
		return Unit{Requests: 1, Failure: &minted}
	}
	var qr client.MintedQr
	if err := json.Unmarshal(minted.Data, &qr); err != nil || qr.QrPayload == nil {
		minted.Broken = fmt.Sprintf("reading a minted QR: %v", err)
		return Unit{Requests: 1, Failure: &minted}
	}
	t0 := time.Now()
	paid := env.API.PayByQr(ctx, till, *qr.QrPayload, paymentMinor)
	u := Single(paid)
	u.Requests = 2
	if paid.OK() {
		u.Payment = time.Since(t0)
	}
	return u
}

// payOnly pays with tokens issued before the window, so that the window
// measures POST /payments alone. Minting retires a wallet's earlier tokens,
// so they are written straight to the database rather than minted.
func (env *Env) payOnly(ctx context.Context, clients int) ([]Worker, error) {
	tokens, err := env.IssueTokens(ctx, env.PayOnlyTokens)
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	workers := make([]Worker, clients)
	for c := range workers {
		till := env.till(c)
		workers[c] = func(ctx context.Context) Unit {
			i := int(next.Add(1) - 1)
			if i >= len(tokens) {
				return Unit{Failure: &Outcome{Broken: "pay-only used up its pre-issued QR tokens: raise -pay-only-tokens"}}
			}
			return Single(env.API.PayByQr(ctx, till, tokens[i], paymentMinor))
		}
	}
	return workers, nil
}

func (env *Env) topups(ws []Wallet) func(context.Context, int) ([]Worker, error) {
	return func(_ context.Context, clients int) ([]Worker, error) {
		workers := make([]Worker, clients)
		for i := range workers {
			rng, till := newRand(i), env.till(i)
			workers[i] = func(ctx context.Context) Unit {
				return Single(env.API.Topup(ctx, till, ws[rng.IntN(len(ws))].ID, topupMinor))
			}
		}
		return workers, nil
	}
}

func (env *Env) identify(_ context.Context, clients int) ([]Worker, error) {
	ws := env.Fx.Wallets
	workers := make([]Worker, clients)
	for i := range workers {
		rng, till := newRand(i), env.till(i)
		workers[i] = func(ctx context.Context) Unit {
			return Single(env.API.Identify(ctx, till, ws[rng.IntN(len(ws))].Phone))
		}
	}
	return workers, nil
}

// mixed is a till at work: 30% identify, 40% mint and pay, 20% top-up and
// 10% customer lookup, over all the wallets.
func (env *Env) mixed(_ context.Context, clients int) ([]Worker, error) {
	ws := env.Fx.Wallets
	workers := make([]Worker, clients)
	for i := range workers {
		rng, till := newRand(i), env.till(i)
		workers[i] = func(ctx context.Context) Unit {
			w := ws[rng.IntN(len(ws))]
			switch r := rng.IntN(100); {
			case r < 30:
				return Single(env.API.Identify(ctx, till, w.Phone))
			case r < 70:
				return env.mintAndPay(ctx, till, w)
			case r < 90:
				return Single(env.API.Topup(ctx, till, w.ID, topupMinor))
			}
			return Single(env.API.Lookup(ctx, till, w.Phone))
		}
	}
	return workers, nil
}
