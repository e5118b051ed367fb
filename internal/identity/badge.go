package identity

import (
	"time"

	"github.com/feddi/partner-api/internal/wallets"
)

// Badge is the cashier-panel badge of a customer.
type Badge string

// The badges, lowest first.
const (
	BadgeNew     Badge = "new"
	BadgeRegular Badge = "regular"
	BadgeVIP     Badge = "vip"
)

// The thresholds of the badge rule (the document's CustomerBadge).
const (
	vipVerifiedFor     = 90 * 24 * time.Hour
	vipLifetimeTopups  = 500_000
	regularVerifiedFor = 30 * 24 * time.Hour
	regularTopups      = 3
)

// BadgeOf is the documented rule, over the wallet shown: vip when verified
// for at least 90 days with lifetime top-ups (top-ups and SKU top-ups, in
// minor units of the wallet's currency) of at least 500 000; regular when
// verified for at least 30 days or topped up at least 3 times; new
// otherwise, and always while the wallet is pending_proof.
func BadgeOf(w wallets.Wallet, topups, lifetimeTopupsMinor int64, now time.Time) Badge {
	if w.Status != wallets.StatusVerified || w.VerifiedAt == nil {
		return BadgeNew
	}
	verifiedFor := now.Sub(*w.VerifiedAt)
	switch {
	case verifiedFor >= vipVerifiedFor && lifetimeTopupsMinor >= vipLifetimeTopups:
		return BadgeVIP
	case verifiedFor >= regularVerifiedFor || topups >= regularTopups:
		return BadgeRegular
	}
	return BadgeNew
}
