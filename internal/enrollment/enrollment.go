// Package enrollment proves that a customer owns their phone: it creates the
// customer and a pending_proof wallet (with a locked welcome grant), sends a
// 6-digit code and a link through the SMS outbox, and on the right code flips
// the wallet to verified and releases every locked grant in one database
// transaction. Claims re-drive that release. Rules: docs/pending-proof.md.
//
// Codes and link tokens are drawn from crypto/rand, stored only as salted
// SHA-256 hashes, compared in constant time, never returned and never logged.
package enrollment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/wallets"
)

// Service runs enrollment, verification, resends and claims.
type Service struct {
	pool     *pgxpool.Pool
	outbox   *sms.Outbox
	linkBase string
	now      func() time.Time
	codes    *secrethash.Hasher
}

// Config assembles a Service.
type Config struct {
	// Outbox queues the verification SMS in the enrollment's transaction.
	Outbox *sms.Outbox
	// LinkBaseURL starts the link of the SMS; the verification id and the
	// link token follow it. Empty: LinkBaseFor the sandbox.
	LinkBaseURL string
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
	// Codes keys the hashes of codes and link tokens (required).
	Codes *secrethash.Hasher
}

// LinkBaseFor is the default start of verification links in env. The page
// behind it calls POST /enroll/verify with the id and the token of its path.
func LinkBaseFor(env config.Environment) string {
	if env == config.Live {
		return "https://feddi.example/v/"
	}
	return "https://sandbox.feddi.example/v/"
}

// NewService returns the service over pool.
func NewService(pool *pgxpool.Pool, cfg Config) *Service {
	s := &Service{pool: pool, outbox: cfg.Outbox, linkBase: cfg.LinkBaseURL, now: cfg.Now, codes: cfg.Codes}
	if s.linkBase == "" {
		s.linkBase = LinkBaseFor(config.Sandbox)
	}
	s.now = clock.OrWall(s.now)
	return s
}

// Caller is who asks: the tenant, and the request context recorded on the
// ledger transactions the call causes.
type Caller struct {
	MerchantID    string
	IntegrationID string
	Context       ledger.Context
}

// WelcomeGrant is promotional credit to issue, locked, with the wallet.
type WelcomeGrant struct {
	Amount        int64
	ExpiresInDays int
}

// Enrollee is the person to enroll. Empty optional fields are absent.
type Enrollee struct {
	Phone              string
	DisplayName        string
	Currency           string // "" is the first served currency
	ProviderCustomerID string
	CardFingerprint    string
	WelcomeGrant       *WelcomeGrant
}

// Initiation is a pending enrollment.
type Initiation struct {
	CustomerID   string
	Wallet       wallets.Wallet
	Verification State
	// Grants are the wallet's locked grants, with their history.
	Grants []grants.Grant
	// Created is false when the phone's pending enrollment was returned
	// unchanged (and no SMS sent).
	Created bool
}

// Proof is what the customer shows: exactly one of VerificationID and
// Phone, and exactly one of Code and LinkToken.
type Proof struct {
	VerificationID string
	Phone          string
	Code           string
	LinkToken      string
}

// Target names a verification: exactly one of VerificationID and Phone.
type Target struct {
	VerificationID string
	Phone          string
}

// Release is a wallet after its locked grants were released.
type Release struct {
	Wallet wallets.Wallet
	// Released are the grants that went locked -> available in this call.
	Released []grants.Grant
}

// ErrWalletNotFound: no such wallet for the merchant (claims).
var ErrWalletNotFound = errors.New("no such wallet")

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Initiate enrolls a phone: customer, pending_proof wallet, optional locked
// welcome grant, verification and its SMS, in one transaction. A phone whose
// enrollment is still pending gets it back unchanged, without a new SMS (use
// Resend); a phone already verified is *AlreadyEnrolledError.
func (s *Service) Initiate(ctx context.Context, c Caller, e Enrollee) (Initiation, error) {
	if !e164.MatchString(e.Phone) {
		return Initiation{}, invalid(FieldPhone, "phone must be in E.164 form, such as +4917698765432")
	}
	if e.Currency == "" {
		e.Currency = money.Currencies()[0].Code
	}
	if err := wallets.CheckCurrency(e.Currency, FieldCurrency); err != nil {
		return Initiation{}, err
	}
	if g := e.WelcomeGrant; g != nil {
		if g.Amount < 1 || g.Amount > money.MaxAmountMinor {
			return Initiation{}, invalid(FieldWelcomeGrantAmount, fmt.Sprintf("welcome_grant.amount_minor must be between 1 and %d", money.MaxAmountMinor))
		}
		if g.ExpiresInDays < 1 || g.ExpiresInDays > 365 {
			return Initiation{}, invalid(FieldWelcomeGrantExpiresInDays, "welcome_grant.expires_in_days must be between 1 and 365")
		}
	}
	now := s.now()
	return dbx.InTxWithTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) (Initiation, error) {
		q := db.New(tx)
		if err := q.EnrollmentLockPhone(ctx, db.EnrollmentLockPhoneParams{MerchantID: c.MerchantID, Phone: e.Phone}); err != nil {
			return Initiation{}, fmt.Errorf("locking the phone's enrollment: %w", err)
		}
		row, err := q.VerificationGetByPhone(ctx, db.VerificationGetByPhoneParams{MerchantID: c.MerchantID, Phone: e.Phone})
		switch err = dbx.Interpret(err); {
		case err == nil:
			return s.pending(ctx, q, verificationFromRow(row), now)
		case !errors.Is(err, dbx.ErrNotFound):
			return Initiation{}, fmt.Errorf("reading the phone's verification: %w", err)
		}
		return s.enroll(ctx, tx, c, e, now)
	})
}

// pending answers an initiate of a phone whose enrollment exists.
func (s *Service) pending(ctx context.Context, q *db.Queries, v verification, now time.Time) (Initiation, error) {
	if v.verified {
		return Initiation{}, &AlreadyEnrolledError{CustomerID: v.customerID}
	}
	w, err := grants.CurrentWallet(ctx, q, v.merchantID, v.walletID, now)
	if err != nil {
		return Initiation{}, err
	}
	locked, err := s.lockedGrants(ctx, v)
	if err != nil {
		return Initiation{}, err
	}
	return Initiation{CustomerID: v.customerID, Wallet: w, Verification: v.state(now), Grants: locked}, nil
}

// lockedGrants reads the locked grants of a pending wallet with their
// history (a pending_proof wallet holds no available promo). It runs on
// the transaction ctx carries.
func (s *Service) lockedGrants(ctx context.Context, v verification) ([]grants.Grant, error) {
	page, err := grants.NewService(s.pool, s.now).ListForCustomer(ctx, grants.ListQuery{
		MerchantID: v.merchantID, CustomerID: v.customerID, State: grants.StateLocked, Limit: 200,
	})
	if err != nil {
		return nil, err
	}
	out := page.Items[:0]
	for _, g := range page.Items {
		if g.WalletID == v.walletID {
			out = append(out, g)
		}
	}
	return out, nil
}

// enroll creates everything for a phone without an enrollment, in tx.
func (s *Service) enroll(ctx context.Context, tx pgx.Tx, c Caller, e Enrollee, now time.Time) (Initiation, error) {
	q := db.New(tx)
	cust, err := customerFor(ctx, q, c.MerchantID, e)
	if err != nil {
		return Initiation{}, err
	}
	w, err := wallets.GetByCustomer(ctx, q, c.MerchantID, cust.ID, e.Currency)
	if errors.Is(err, wallets.ErrNotFound) {
		w, err = wallets.Create(ctx, q, wallets.NewWallet{MerchantID: c.MerchantID, CustomerID: cust.ID, Currency: e.Currency, Status: wallets.StatusPendingProof, Now: now})
	}
	if err != nil {
		return Initiation{}, err
	}
	issued := []grants.Grant{}
	if g := e.WelcomeGrant; g != nil {
		grant, _, err := grants.IssueOnLockedWallet(ctx, q, w, grants.NewGrant{
			MerchantID: c.MerchantID, IntegrationID: c.IntegrationID, WalletID: w.ID, Source: grants.SourceWelcome,
			Amount: g.Amount, ExpiresAt: now.Add(time.Duration(g.ExpiresInDays) * 24 * time.Hour), Locked: true, Context: c.Context,
		}, now)
		if err != nil {
			return Initiation{}, err
		}
		issued = append(issued, grant)
	}
	verificationID := ids.New(ids.Verification)
	sec, err := newSecrets(s.codes, verificationID)
	if err != nil {
		return Initiation{}, err
	}
	row, err := q.VerificationInsert(ctx, db.VerificationInsertParams{
		ID: verificationID, MerchantID: c.MerchantID, CustomerID: cust.ID, WalletID: w.ID, Phone: e.Phone,
		CodeHash: sec.codeHash, LinkTokenHash: sec.linkHash, ExpiresAt: now.Add(CodeLifetime), LastSentAt: now,
	})
	if err != nil {
		return Initiation{}, fmt.Errorf("creating verification: %w", err)
	}
	v := verificationFromRow(row)
	if err := s.send(ctx, tx, c, v, sec); err != nil {
		return Initiation{}, err
	}
	if w, err = wallets.Get(ctx, q, c.MerchantID, w.ID); err != nil {
		return Initiation{}, err
	}
	return Initiation{CustomerID: cust.ID, Wallet: w, Verification: v.state(now), Grants: issued, Created: true}, nil
}

// customerFor creates the customer of the phone, or takes the one that
// exists without an enrollment (created by another path) unless one of its
// wallets is verified already.
func customerFor(ctx context.Context, q *db.Queries, merchantID string, e Enrollee) (customers.Customer, error) {
	cust, err := customers.GetByPhone(ctx, q, merchantID, e.Phone)
	if err == nil {
		ws, err := wallets.ListByCustomer(ctx, q, merchantID, cust.ID)
		if err != nil {
			return customers.Customer{}, err
		}
		for _, w := range ws {
			if w.Status == wallets.StatusVerified {
				return customers.Customer{}, &AlreadyEnrolledError{CustomerID: cust.ID}
			}
		}
		return cust, nil
	}
	if !errors.Is(err, customers.ErrNotFound) {
		return customers.Customer{}, err
	}
	if err := credentialsFree(ctx, q, merchantID, e); err != nil {
		return customers.Customer{}, err
	}
	return customers.Create(ctx, q, customers.NewCustomer{MerchantID: merchantID, Phone: e.Phone, Profile: customers.Profile{
		DisplayName: e.DisplayName, CardFingerprint: e.CardFingerprint, ProviderCustomerID: e.ProviderCustomerID,
	}})
}

// credentialsFree refuses a card or provider id linked to another customer,
// naming the field (the phone lock does not cover them; the unique indexes
// stay the last word).
func credentialsFree(ctx context.Context, q *db.Queries, merchantID string, e Enrollee) error {
	if e.CardFingerprint != "" {
		if _, err := customers.GetByCardFingerprint(ctx, q, merchantID, e.CardFingerprint); err == nil {
			return invalid(FieldCardFingerprint, "card_fingerprint is already linked to another customer")
		} else if !errors.Is(err, customers.ErrNotFound) {
			return err
		}
	}
	if e.ProviderCustomerID != "" {
		if _, err := customers.GetByProviderCustomerID(ctx, q, merchantID, e.ProviderCustomerID); err == nil {
			return invalid(FieldProviderCustomerID, "provider_customer_id is already linked to another customer")
		} else if !errors.Is(err, customers.ErrNotFound) {
			return err
		}
	}
	return nil
}

// send queues the verification SMS in the caller's transaction.
func (s *Service) send(ctx context.Context, tx pgx.Tx, c Caller, v verification, sec secrets) error {
	body := fmt.Sprintf("Your Feddi code is %s. Or tap %s%s/%s to verify. It expires in %d minutes.",
		sec.code, s.linkBase, v.id, sec.linkToken, int(CodeLifetime.Minutes()))
	_, err := s.outbox.Enqueue(ctx, tx, sms.Outgoing{
		MerchantID: v.merchantID, IntegrationID: c.IntegrationID, Phone: v.phone, Kind: sms.KindEnrollmentVerification, SubjectID: v.id, Body: body,
	})
	return err
}
