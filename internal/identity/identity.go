// Package identity resolves the credentials that identify a customer
// (phone, card fingerprint, short code, provider customer id, QR payload)
// to a CustomerContext: what a POS may know about the customer. It never
// returns anything that can debit the wallet, and it never uses a QR token.
//
// API for other packages:
//   - Service.Identify(ctx, caller, credential, currency) resolves a
//     credential (POST /identify, checkout identify).
//   - Service.Lookup(ctx, caller, credential) is the cashier-panel read
//     (GET /customers/lookup): not found is a result, not an error.
//   - ContextOf(ctx, q, customer, wallet, now) builds the context of a
//     customer whose wallet the caller read.
//   - CallerOf(principal, contextTerminal) names the caller and the
//     terminal, key and merchant that guesses are counted against.
//   - BadgeOf(wallet, topups, lifetimeTopupsMinor, now) is the cashier-panel
//     badge rule (the document's CustomerBadge).
package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/wallets"
)

// CredentialType is a kind of identifying credential.
type CredentialType string

// The identifying credentials of the contract.
const (
	Phone              CredentialType = "phone"
	CardFingerprint    CredentialType = "card_fingerprint"
	ShortCode          CredentialType = "short_code"
	ProviderCustomerID CredentialType = "provider_customer_id"
	QR                 CredentialType = "qr"
)

// guessable says whether the credential is a short secret an attacker could
// enumerate: such attempts are rate limited per terminal.
func (t CredentialType) guessable() bool { return t == ShortCode || t == QR }

// Credential is one identifying credential.
type Credential struct {
	Type  CredentialType
	Value string
}

// PaymentCredential is a way the customer can authorize a payment.
type PaymentCredential string

// The payment credentials of the contract.
const (
	PayByQR  PaymentCredential = "qr"
	PayByOTP PaymentCredential = "otp"
)

// CustomerContext is what a POS may know about an identified customer.
type CustomerContext struct {
	CustomerID  string
	DisplayName string // "" when none was given
	MaskedPhone string
	Badge       Badge
	Wallet      wallets.Wallet
	// AcceptedPaymentCredentials is empty while the wallet is pending_proof.
	AcceptedPaymentCredentials []PaymentCredential
}

// Lookup is the cashier-panel view of a customer.
type Lookup struct {
	Found    bool
	Customer CustomerContext
	// Recent are the customer's last RecentTransactions transactions,
	// newest first.
	Recent []ledger.Transaction
}

// RecentTransactions is how many transactions a lookup shows.
const RecentTransactions = 10

// ErrCustomerNotFound: no customer of the merchant matches the credential
// (also an unknown, expired or used short code or QR payload).
var ErrCustomerNotFound = errors.New("no customer matches this credential")

// ErrInvalid: a credential value that cannot be one of its type (a phone
// not in E.164 form). It is refused as input, never looked up.
var ErrInvalid = errors.New("invalid credential")

// FieldCredentialValue is the value of a Credential (fielderr.Field).
const FieldCredentialValue fielderr.Field = "identity.Credential.Value"

// check refuses a value its type can never have: a phone is E.164, as
// enrollment stores it, so a national-format number is a mistake to name,
// not a customer to look for.
func (c Credential) check() error {
	if c.Type == Phone && !customers.ValidPhone(c.Value) {
		return fielderr.New(ErrInvalid, FieldCredentialValue, "A phone must be in E.164 form: +, the country code and the number, digits only (for example +4915112345678).")
	}
	return nil
}

// Caller is who identifies: the merchant whose customers are searched, and
// who guesses are counted against (the terminal, the key, the merchant).
type Caller = ratelimit.Subject

// CallerOf names the caller of an authenticated request: the terminal of a
// terminal token, else the context.terminal_id an API-key caller sent
// (contextTerminal, "" when none).
func CallerOf(p auth.Principal, contextTerminal string) Caller {
	terminal := p.TerminalID
	if terminal == "" {
		terminal = contextTerminal
	}
	return Caller{MerchantID: p.MerchantID, KeyID: p.KeyID, Terminal: terminal}
}

// Service identifies customers.
type Service struct {
	pool    *pgxpool.Pool
	qr      *qr.Service
	limiter *ratelimit.Limiter
	now     func() time.Time
}

// NewService returns the service; now is the clock grants expire by.
func NewService(pool *pgxpool.Pool, qrs *qr.Service, limiter *ratelimit.Limiter, now func() time.Time) *Service {
	return &Service{pool: pool, qr: qrs, limiter: limiter, now: now}
}

// Identify resolves a credential to the customer's context. currency picks
// the wallet shown when the customer has several (a checkout session's);
// without it, or without a wallet in it, the oldest wallet is shown. A QR
// payload or short code shows the wallet it was minted for and stays
// usable. A short code or payload the service never issued is a guess,
// counted against the caller (ratelimit); past the limit every attempt is
// ratelimit.ErrLimited. A used, expired or superseded one is not a guess.
// A phone counts toward the terminal's lookup limit, found or not.
func (s *Service) Identify(ctx context.Context, caller Caller, cred Credential, currency string) (CustomerContext, error) {
	if err := cred.check(); err != nil {
		return CustomerContext{}, err
	}
	resolve := func(ctx context.Context) (CustomerContext, error) {
		return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (CustomerContext, error) {
			return s.resolve(ctx, q, caller.MerchantID, cred, currency)
		})
	}
	if cred.Type == Phone {
		return s.lookUpPhone(ctx, caller, resolve)
	}
	if !cred.Type.guessable() {
		return resolve(ctx)
	}
	var cc CustomerContext
	err := s.limiter.Guard(ctx, caller, func(ctx context.Context) error {
		var err error
		cc, err = resolve(ctx)
		return err
	}, isGuess)
	return cc, err
}

// lookUpPhone counts a lookup by phone against the caller's terminal before
// it runs, found or not, and refuses it past the terminal's lookup limit
// (ratelimit.CountLookup): a phone number is no secret, but a till that
// sweeps numbers learns who has a wallet here. The count sits in the
// request's transaction itself, so a lookup that finds nobody (an error
// the request reports) still counts.
func (s *Service) lookUpPhone(ctx context.Context, caller Caller, resolve func(context.Context) (CustomerContext, error)) (CustomerContext, error) {
	var (
		cc      CustomerContext
		outcome error
	)
	err := dbx.InRequestTx(ctx, s.pool, func(ctx context.Context, q *db.Queries) error {
		if err := s.limiter.CountLookup(ctx, q, caller); err != nil {
			return err
		}
		cc, outcome = resolve(ctx)
		return nil
	})
	if err != nil {
		return CustomerContext{}, err
	}
	return cc, outcome
}

// unmatchedCode is a short code or QR payload that matches no live token;
// Reason is qr's (unknown, used, expired, superseded).
type unmatchedCode struct{ Reason string }

func (e *unmatchedCode) Error() string { return ErrCustomerNotFound.Error() }

// Is makes errors.Is(err, ErrCustomerNotFound) hold.
func (e *unmatchedCode) Is(target error) bool { return target == ErrCustomerNotFound }

// isGuess says whether an identify attempt tried a code the service never
// issued.
func isGuess(err error) bool {
	var u *unmatchedCode
	return errors.As(err, &u) && u.Reason == qr.ReasonUnknown
}

// Lookup is Identify for the cashier panel: nobody found is a result, and a
// found customer comes with the last transactions of their wallets.
func (s *Service) Lookup(ctx context.Context, caller Caller, cred Credential) (Lookup, error) {
	cc, err := s.Identify(ctx, caller, cred, "")
	switch {
	case errors.Is(err, ErrCustomerNotFound):
		return Lookup{Recent: []ledger.Transaction{}}, nil
	case err != nil:
		return Lookup{}, err
	}
	recent, err := transactions.ListRecentByCustomer(ctx, dbx.Q(ctx, s.pool), caller.MerchantID, cc.CustomerID, RecentTransactions)
	if err != nil {
		return Lookup{}, err
	}
	return Lookup{Found: true, Customer: cc, Recent: recent}, nil
}

func (s *Service) resolve(ctx context.Context, q *db.Queries, merchantID string, cred Credential, currency string) (CustomerContext, error) {
	var (
		c   customers.Customer
		w   wallets.Wallet
		err error
	)
	switch cred.Type {
	case Phone:
		c, err = customers.GetByPhone(ctx, q, merchantID, cred.Value)
	case CardFingerprint:
		c, err = customers.GetByCardFingerprint(ctx, q, merchantID, cred.Value)
	case ProviderCustomerID:
		c, err = customers.GetByProviderCustomerID(ctx, q, merchantID, cred.Value)
	case ShortCode, QR:
		if cred.Type == ShortCode && !qr.IsShortCode(cred.Value) {
			return CustomerContext{}, &unmatchedCode{Reason: qr.ReasonUnknown}
		}
		var walletID string
		if walletID, err = s.qr.Peek(ctx, merchantID, cred.Value); err != nil {
			var invalid *qr.InvalidError
			if errors.As(err, &invalid) {
				return CustomerContext{}, &unmatchedCode{Reason: invalid.Reason}
			}
			return CustomerContext{}, err
		}
		if w, err = grants.CurrentWallet(ctx, q, merchantID, walletID, s.now()); err != nil {
			return CustomerContext{}, err
		}
		if c, err = customers.Get(ctx, q, merchantID, w.CustomerID); err != nil {
			return CustomerContext{}, err
		}
		return ContextOf(ctx, q, c, w, s.now())
	default:
		return CustomerContext{}, fmt.Errorf("identify: unknown credential type %q", cred.Type)
	}
	if err != nil {
		return CustomerContext{}, notFound(err, customers.ErrNotFound)
	}
	if w, err = s.walletOf(ctx, q, c, currency); err != nil {
		return CustomerContext{}, err
	}
	return ContextOf(ctx, q, c, w, s.now())
}

// walletOf picks the customer's wallet in currency, else the oldest one,
// with its due grants expired.
func (s *Service) walletOf(ctx context.Context, q *db.Queries, c customers.Customer, currency string) (wallets.Wallet, error) {
	all, err := wallets.ListByCustomer(ctx, q, c.MerchantID, c.ID)
	if err != nil {
		return wallets.Wallet{}, err
	}
	if len(all) == 0 {
		return wallets.Wallet{}, ErrCustomerNotFound // a customer is never without a wallet; be safe
	}
	pick := all[0]
	for _, w := range all {
		if w.Currency == currency {
			pick = w
			break
		}
	}
	return grants.CurrentWallet(ctx, q, c.MerchantID, pick.ID, s.now())
}

// ContextOf builds the context of a customer and one of their wallets (read
// by the caller, due grants expired).
func ContextOf(ctx context.Context, q *db.Queries, c customers.Customer, w wallets.Wallet, now time.Time) (CustomerContext, error) {
	stats, err := transactions.TopupStatsOf(ctx, q, w.MerchantID, w.ID)
	if err != nil {
		return CustomerContext{}, err
	}
	accepted := []PaymentCredential{}
	if w.Status == wallets.StatusVerified {
		accepted = []PaymentCredential{PayByQR, PayByOTP}
	}
	return CustomerContext{
		CustomerID:                 c.ID,
		DisplayName:                c.DisplayName,
		MaskedPhone:                sms.MaskPhone(c.Phone),
		Badge:                      BadgeOf(w, stats.Count, stats.TotalMinor, now),
		Wallet:                     w,
		AcceptedPaymentCredentials: accepted,
	}, nil
}

// notFound turns the "no match" error of a store into ErrCustomerNotFound.
func notFound(err, sentinel error) error {
	if errors.Is(err, sentinel) {
		return ErrCustomerNotFound
	}
	return err
}
