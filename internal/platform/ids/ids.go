// Package ids makes the opaque, prefixed, time-sortable identifiers of the
// contract: a prefix such as "pay", an underscore and a ULID.
package ids

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// The prefixes of the contract.
const (
	Merchant        = "mer"
	Integration     = "int"
	APIKey          = "key"
	Customer        = "cus"
	Wallet          = "wal"
	Payment         = "pay"
	Transaction     = "txn"
	Grant           = "grt"
	CheckoutSession = "cs"
	Verification    = "ver"
	OTPChallenge    = "otp"
	Refund          = "rfd"
	Event           = "evt"
	WebhookEndpoint = "we"
	WebhookDelivery = "wd"
	Request         = "req"
)

// New returns a fresh id with the prefix. ULIDs from one process are
// monotonic within a millisecond, so ids sort by creation time.
func New(prefix string) string {
	return prefix + "_" + ulid.Make().String()
}

// Valid says whether s is a well-formed id with the prefix.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}
