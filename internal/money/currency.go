// Package money holds the facts about money every domain shares: the
// currencies the service serves, their exponents, and the amount ceiling.
package money

import "slices"

// Currency is a served ISO 4217 currency and its exponent: the number of
// minor units per major unit as a power of ten (EUR 2, JPY 0).
type Currency struct {
	Code     string
	Exponent int
}

// served is the one list of currencies the service accepts.
var served = []Currency{
	{Code: "EUR", Exponent: 2},
	{Code: "USD", Exponent: 2},
	{Code: "GBP", Exponent: 2},
	{Code: "JPY", Exponent: 0},
}

// MaxAmountMinor is the ceiling of any single amount and of a wallet's
// actual balance, in minor units (below 2^53, so safe as a JavaScript
// number).
const MaxAmountMinor int64 = 1_000_000_000_000

// Currencies lists the served currencies.
func Currencies() []Currency { return slices.Clone(served) }

// Exponent returns the exponent of a served currency, and false for a
// currency the service does not serve.
func Exponent(code string) (int, bool) {
	for _, c := range served {
		if c.Code == code {
			return c.Exponent, true
		}
	}
	return 0, false
}
