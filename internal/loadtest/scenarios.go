package loadtest

import "context"

// Units of work a scenario counts.
const (
	unitPair    = "pair"    // a QR mint and the payment with it
	unitRequest = "request" // one HTTP request
)

// Amounts the scenarios move, in EUR minor units.
const (
	paymentMinor = 100
	topupMinor   = 5000
)

// Scenario is one named load shape.
type Scenario struct {
	Name string
	Unit string
	// Op is the one operation the scenario sends, for the per-operation
	// figures; empty when it mixes operations.
	Op string
	// Workers builds one worker per client; whatever it prepares happens
	// outside the measured window.
	Workers func(ctx context.Context, clients int) ([]Worker, error)
}

// Env is what scenarios run against.
type Env struct {
	API *API
	Fx  *Fixture
	// IssueTokens issues n live QR tokens spread over the wallets straight
	// in the database and returns their payloads (pay-only).
	IssueTokens func(ctx context.Context, n int) ([]string, error)
	// PayOnlyTokens is how many tokens pay-only issues before its warm-up.
	PayOnlyTokens int
}

// Scenarios builds every scenario, by name.
func Scenarios(env *Env) map[string]Scenario {
	all := env.Fx.Wallets
	spread := all[:min(64, len(all))]
	list := []Scenario{
		{Name: "pay", Unit: unitPair, Workers: env.pairs(func(_, _ int) []Wallet { return all })},
		{Name: "pay-disjoint", Unit: unitPair, Workers: env.pairs(func(i, n int) []Wallet { return everyNth(all, i, n) })},
		{Name: "pay-hot", Unit: unitPair, Workers: env.pairs(func(_, _ int) []Wallet { return all[:1] })},
		{Name: "pay-only", Unit: unitRequest, Op: "POST /payments", Workers: env.payOnly},
		{Name: "topup-spread", Unit: unitRequest, Op: "POST /topup/confirm", Workers: env.topups(spread)},
		{Name: "topup-hot", Unit: unitRequest, Workers: env.topups(all[:1])},
		{Name: "identify", Unit: unitRequest, Op: "POST /identify", Workers: env.identify},
		{Name: "mixed", Unit: unitRequest, Workers: env.mixed},
	}
	byName := make(map[string]Scenario, len(list))
	for _, sc := range list {
		byName[sc.Name] = sc
	}
	return byName
}
