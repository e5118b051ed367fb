package payments

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/wallets"
)

// CredentialType is how the customer authorizes a payment.
type CredentialType string

// The payment credentials.
const (
	CredentialQR  CredentialType = "qr"
	CredentialOTP CredentialType = "otp"
)

// Credential is a payment credential: {qr, Value}, {otp, Phone} (starts a
// challenge) or {otp, ChallengeID, Code} (completes it).
type Credential struct {
	Type        CredentialType
	Value       string
	Phone       string
	ChallengeID string
	Code        string
}

// check refuses every combination the document does not list.
func (c Credential) check() error {
	switch {
	case c.Type == CredentialQR && c.Value != "" && c.Phone == "" && c.ChallengeID == "" && c.Code == "":
	case c.Type == CredentialOTP && c.Value == "" && c.Phone != "" && c.ChallengeID == "" && c.Code == "":
	case c.Type == CredentialOTP && c.Value == "" && c.Phone == "" && c.ChallengeID != "" && c.Code != "":
	default:
		return ErrCredentialMalformed
	}
	return nil
}

// Request is a payment to authorize.
type Request struct {
	Caller auth.Principal
	// Context is recorded on the payment and its ledger transactions.
	Context              ledger.Context
	Amount               int64
	Currency             string
	Credential           Credential
	CaptureMode          CaptureMode
	PartialAuthorization bool
	CheckoutSessionID    string
	Reference            string
}

// Service takes payments.
type Service struct {
	pool    *pgxpool.Pool
	limiter *ratelimit.Limiter
	outbox  *sms.Outbox
	now     func() time.Time
}

// NewService returns the service; outbox queues the SMS of OTP challenges.
func NewService(pool *pgxpool.Pool, limiter *ratelimit.Limiter, outbox *sms.Outbox) *Service {
	return &Service{pool: pool, limiter: limiter, outbox: outbox, now: time.Now}
}

// Create authorizes a payment (and captures it at once in automatic mode).
//
// A QR payload or short code is used in the same transaction as the debit.
// An OTP credential with a phone starts a challenge and answers
// *OTPRequiredError; with a challenge id and code it pays. Guesses (see
// isGuess) count against the caller's terminal, key and merchant
// (ratelimit), which also serializes the attempts of one terminal.
func (s *Service) Create(ctx context.Context, r Request) (Payment, error) {
	if err := wallets.CheckCurrency(r.Currency, "/data/currency"); err != nil {
		return Payment{}, err
	}
	if err := r.Credential.check(); err != nil {
		return Payment{}, err
	}
	if r.CaptureMode == "" {
		r.CaptureMode = CaptureAutomatic
	}
	if r.Credential.Type == CredentialOTP && r.Credential.Phone != "" {
		return Payment{}, s.startChallenge(ctx, r)
	}
	var p Payment
	err := s.limiter.Guard(ctx, identity.CallerOf(r.Caller, r.Context.TerminalID), func(ctx context.Context) error {
		var challengeWallet string
		if r.Credential.Type == CredentialOTP {
			w, err := s.verifyChallenge(ctx, r.Caller.MerchantID, r.Credential)
			if err != nil {
				return err
			}
			challengeWallet = w
		}
		var err error
		p, err = dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Payment, error) {
			return s.authorize(ctx, q, r, challengeWallet)
		})
		return err
	}, isGuess)
	return p, err
}

// isGuess says whether a failed payment attempt tried a credential the
// service never issued: an unknown QR payload or short code, an unknown
// challenge, a wrong one-time code. A used, expired or superseded one is
// not a guess.
func isGuess(err error) bool {
	var qrErr *qr.InvalidError
	var credErr *CredentialInvalidError
	var wrong *wrongCode
	switch {
	case errors.As(err, &qrErr):
		return qrErr.Reason == qr.ReasonUnknown
	case errors.As(err, &credErr):
		return credErr.Reason == ReasonChallengeUnknown
	}
	return errors.Is(err, ErrOTPInvalid) || errors.As(err, &wrong)
}

// authorize runs in the payment's transaction: it locks the checkout
// session (if any), uses the credential, locks the wallet, expires its due
// grants, allocates promo first and books the authorization (and the
// capture, in automatic mode).
func (s *Service) authorize(ctx context.Context, q *db.Queries, r Request, challengeWallet string) (Payment, error) {
	merchantID := r.Caller.MerchantID
	paymentID := ids.New(ids.Payment)
	if r.CheckoutSessionID != "" {
		if err := checkout.LockForPayment(ctx, q, merchantID, r.CheckoutSessionID, r.Currency, r.Amount); err != nil {
			return Payment{}, err
		}
	}
	walletID := challengeWallet
	var err error
	if r.Credential.Type == CredentialQR {
		walletID, err = qr.Use(ctx, q, merchantID, r.Credential.Value, paymentID)
	} else {
		err = useChallenge(ctx, q, merchantID, r.Credential.ChallengeID, paymentID)
	}
	if err != nil {
		return Payment{}, err
	}
	w, err := wallets.GetForUpdate(ctx, q, merchantID, walletID)
	if err != nil {
		return Payment{}, err
	}
	switch {
	case w.Currency != r.Currency:
		return Payment{}, &CredentialInvalidError{Reason: ReasonCurrencyMismatch, field: "/data/credential"}
	case w.Status != wallets.StatusVerified:
		return Payment{}, wallets.ErrNotVerified
	}
	now := s.now()
	if w, err = grants.ExpireDueForLockedWallet(ctx, q, w, now); err != nil {
		return Payment{}, err
	}

	amount := r.Amount
	if spendable := w.Balance.Spendable(); spendable < amount {
		if !r.PartialAuthorization || spendable == 0 {
			return Payment{}, &InsufficientFundsError{Amount: r.Amount, Balance: w.Balance}
		}
		amount = spendable
	}
	allocations := []grants.Allocation{}
	if w.Balance.PromoAvailable > 0 {
		live, err := grants.ListLive(ctx, q, merchantID, w.ID)
		if err != nil {
			return Payment{}, err
		}
		allocations = grants.AllocatePromoFirst(live, amount, now)
	}
	promo := grants.Total(allocations)
	actual := amount - promo

	p := Payment{
		ID: paymentID, MerchantID: merchantID, IntegrationID: r.Caller.IntegrationID,
		WalletID: w.ID, CustomerID: w.CustomerID, Currency: w.Currency,
		Amount: r.Amount, PromoApplied: promo, ActualApplied: actual,
		Status: StatusAuthorized, CaptureMode: r.CaptureMode, Allocations: allocations,
		Context: r.Context, CheckoutSessionID: r.CheckoutSessionID, Reference: r.Reference,
	}
	txnID := ids.New(ids.Transaction)
	if _, err := grants.Spend(ctx, q, w, allocations, txnID); err != nil {
		return Payment{}, err
	}
	// Automatic capture books ONE movement straight from the wallet to the
	// merchant (type payment); manual capture books the authorization into
	// the payment's hold, to be captured or released later.
	txnType, entries := ledger.TypePaymentAuthorization, authorizationEntries(p)
	if r.CaptureMode == CaptureAutomatic {
		p.Status, p.PromoCaptured, p.ActualCaptured = StatusCaptured, promo, actual
		txnType, entries = ledger.TypePayment, paymentEntries(p)
	}
	txn, err := ledger.Post(ctx, q, p.movement(txnID, txnType, amount, entries))
	if err != nil {
		return Payment{}, err
	}
	p.BalanceAfter = txn.BalanceAfter
	if p, err = insert(ctx, q, p); err != nil {
		return Payment{}, err
	}
	if r.CheckoutSessionID != "" {
		if err := checkout.Complete(ctx, q, merchantID, r.CheckoutSessionID, p.ID, p.CustomerID, p.WalletID); err != nil {
			return Payment{}, err
		}
	}
	return p, nil
}

// movement is a ledger movement of the payment.
func (p Payment) movement(txnID string, t ledger.Type, amount int64, entries []ledger.Entry) ledger.Movement {
	return ledger.Movement{
		ID: txnID, MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, Type: t,
		WalletID: p.WalletID, Currency: p.Currency, Amount: amount, Entries: entries,
		References: ledger.References{PaymentID: p.ID}, Context: p.Context,
	}
}

// authorizationEntries move promo and actual money, each within its class,
// from the wallet into the payment's hold.
func authorizationEntries(p Payment) []ledger.Entry {
	var es []ledger.Entry
	if p.PromoApplied > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.WalletPromoAvailable(p.WalletID), Amount: -p.PromoApplied},
			ledger.Entry{Account: ledger.HoldPromo(p.ID), Amount: p.PromoApplied})
	}
	if p.ActualApplied > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.WalletActual(p.WalletID), Amount: -p.ActualApplied},
			ledger.Entry{Account: ledger.HoldActual(p.ID), Amount: p.ActualApplied})
	}
	return es
}

// paymentEntries move promo and actual money, each within its class,
// straight from the wallet to the merchant: an automatic capture.
func paymentEntries(p Payment) []ledger.Entry {
	var es []ledger.Entry
	if p.PromoApplied > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.WalletPromoAvailable(p.WalletID), Amount: -p.PromoApplied},
			ledger.Entry{Account: ledger.PromoRedeemed(p.MerchantID), Amount: p.PromoApplied})
	}
	if p.ActualApplied > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.WalletActual(p.WalletID), Amount: -p.ActualApplied},
			ledger.Entry{Account: ledger.Revenue(p.MerchantID), Amount: p.ActualApplied})
	}
	return es
}

// captureEntries move the captured hold to the merchant: promo to
// promo_redeemed, actual to revenue.
func captureEntries(p Payment, promo, actual int64) []ledger.Entry {
	var es []ledger.Entry
	if promo > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.HoldPromo(p.ID), Amount: -promo},
			ledger.Entry{Account: ledger.PromoRedeemed(p.MerchantID), Amount: promo})
	}
	if actual > 0 {
		es = append(es,
			ledger.Entry{Account: ledger.HoldActual(p.ID), Amount: -actual},
			ledger.Entry{Account: ledger.Revenue(p.MerchantID), Amount: actual})
	}
	return es
}

// Get reads a payment of the merchant.
func (s *Service) Get(ctx context.Context, merchantID, id string) (Payment, error) {
	return get(ctx, dbx.Q(ctx, s.pool), merchantID, id, false)
}
