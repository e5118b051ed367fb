package ledger

import (
	"fmt"
	"regexp"
	"strings"
)

// Account names a ledger account: kind:owner:class[:sub]. Wallet accounts
// hold a wallet's balance (mirrored in its row); every other account is a
// system account whose balance is the sum of its entries (no balance row,
// so no hot row).
type Account string

// Class is the money class of an account: actual money or promotional
// credit. A transaction balances within each class, so value never moves
// between the two.
type Class string

// The money classes.
const (
	ClassActual Class = "actual"
	ClassPromo  Class = "promo"
)

// WalletActual is the customer's actual money in a wallet.
func WalletActual(walletID string) Account { return Account("wallet:" + walletID + ":actual") }

// WalletPromoAvailable is a wallet's spendable promotional credit.
func WalletPromoAvailable(walletID string) Account {
	return Account("wallet:" + walletID + ":promo_available")
}

// WalletPromoLocked is a wallet's promotional credit waiting for phone proof.
func WalletPromoLocked(walletID string) Account {
	return Account("wallet:" + walletID + ":promo_locked")
}

// HoldActual is the actual money an authorized payment holds.
func HoldActual(paymentID string) Account { return Account("hold:" + paymentID + ":actual") }

// HoldPromo is the promotional credit an authorized payment holds.
func HoldPromo(paymentID string) Account { return Account("hold:" + paymentID + ":promo") }

// TopupClearing is what a payment provider settled for the merchant's
// top-ups (its balance is negative: owed to the wallets it credited).
func TopupClearing(merchantID, provider string) Account {
	return Account("merchant:" + merchantID + ":topup_clearing:" + provider)
}

// SkuClearing is the cash the merchant collected for SKUs sold at its tills.
func SkuClearing(merchantID string) Account {
	return Account("merchant:" + merchantID + ":sku_clearing")
}

// Revenue is the actual money payments captured for the merchant.
func Revenue(merchantID string) Account { return Account("merchant:" + merchantID + ":revenue") }

// PromoFunding is where the merchant's promotional credit comes from.
func PromoFunding(merchantID string) Account {
	return Account("merchant:" + merchantID + ":promo_funding")
}

// PromoExpired collects promotional credit that expired unspent.
func PromoExpired(merchantID string) Account {
	return Account("merchant:" + merchantID + ":promo_expired")
}

// PromoClawback collects promotional credit operators clawed back.
func PromoClawback(merchantID string) Account {
	return Account("merchant:" + merchantID + ":promo_clawback")
}

// PromoRedeemed collects promotional credit captured by payments.
func PromoRedeemed(merchantID string) Account {
	return Account("merchant:" + merchantID + ":promo_redeemed")
}

// The grammar the database enforces too (ledger_entries.account CHECK).
var accountPattern = regexp.MustCompile(`^(wallet:wal_[0-9A-HJKMNP-TV-Z]{26}:(actual|promo_available|promo_locked)|hold:pay_[0-9A-HJKMNP-TV-Z]{26}:(actual|promo)|merchant:mer_[0-9A-HJKMNP-TV-Z]{26}:[a-z_]{1,32}(:[a-z0-9_]{1,32})?)$`)

// Valid says whether the account is well-formed.
func (a Account) Valid() bool { return accountPattern.MatchString(string(a)) }

// Class is the account's money class: promo when its third segment starts
// with "promo" (the database derives ledger_entries.money_class the same way).
func (a Account) Class() Class {
	if strings.HasPrefix(segment(a, 2), "promo") {
		return ClassPromo
	}
	return ClassActual
}

// WalletID is the wallet of a wallet account, "" for any other account.
func (a Account) WalletID() string {
	if segment(a, 0) != "wallet" {
		return ""
	}
	return segment(a, 1)
}

// MerchantID is the merchant of a merchant account, "" for any other.
func (a Account) MerchantID() string {
	if segment(a, 0) != "merchant" {
		return ""
	}
	return segment(a, 1)
}

func segment(a Account, i int) string {
	parts := strings.SplitN(string(a), ":", 4)
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// walletDeltas is what a movement does to its wallet's balance columns,
// and to the actual money the wallet's payments hold (heldActual: the
// credit checks count it against the ceiling).
type walletDeltas struct {
	actual, promoAvailable, promoLocked, heldActual int64
}

// IsHoldActual says whether the account is a payment's held actual money.
func (a Account) IsHoldActual() bool {
	return segment(a, 0) == "hold" && segment(a, 2) == string(ClassActual)
}

// check verifies the ledger rules of m and returns its wallet deltas.
func (m Movement) check() (walletDeltas, error) {
	var d walletDeltas
	bad := func(format string, args ...any) (walletDeltas, error) {
		return walletDeltas{}, fmt.Errorf("%w: %s %s: %s", ErrUnbalanced, m.Type, m.WalletID, fmt.Sprintf(format, args...))
	}
	if !m.Type.Valid() {
		return bad("unknown type")
	}
	if m.MerchantID == "" || m.IntegrationID == "" || m.WalletID == "" || m.Currency == "" {
		return bad("merchant, integration, wallet and currency are required")
	}
	if m.Amount < 0 {
		return bad("negative amount %d", m.Amount)
	}
	if len(m.Entries) < 2 {
		return bad("%d entries; at least 2 are required", len(m.Entries))
	}
	sums := map[Class]int64{}
	for _, e := range m.Entries {
		switch {
		case !e.Account.Valid():
			return bad("malformed account %q", e.Account)
		case e.Amount == 0:
			return bad("zero entry on %s", e.Account)
		case e.Currency != "" && e.Currency != m.Currency:
			return bad("entry in %s on a %s transaction", e.Currency, m.Currency)
		case e.Account.MerchantID() != "" && e.Account.MerchantID() != m.MerchantID:
			return bad("account %s of another merchant", e.Account)
		}
		if w := e.Account.WalletID(); w != "" {
			if w != m.WalletID {
				return bad("account %s of another wallet", e.Account)
			}
			switch e.Account {
			case WalletActual(w):
				d.actual += e.Amount
			case WalletPromoAvailable(w):
				d.promoAvailable += e.Amount
			case WalletPromoLocked(w):
				d.promoLocked += e.Amount
			}
		}
		if e.Account.IsHoldActual() {
			d.heldActual += e.Amount
		}
		sums[e.Account.Class()] += e.Amount
	}
	for class, sum := range sums {
		if sum != 0 {
			return bad("%s entries sum to %d, not zero", class, sum)
		}
	}
	return d, nil
}
