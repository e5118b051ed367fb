package payments

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/metrics"
	"github.com/feddi/partner-api/internal/platform/secrethash"
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
	// codes keys the hashes of OTP codes; tokens uses QR credentials.
	codes  *secrethash.Hasher
	tokens *qr.Service
	now    func() time.Time
}

// Deps are the services payments use besides the database.
type Deps struct {
	// Limiter counts guesses at credentials.
	Limiter *ratelimit.Limiter
	// Outbox queues the SMS of OTP challenges.
	Outbox *sms.Outbox
	// Codes keys the hashes of OTP codes.
	Codes *secrethash.Hasher
	// QR uses the wallet QR codes payments are made with.
	QR *qr.Service
	// Now is the service clock: expiry, challenges, authorization lifetimes.
	Now func() time.Time
}

// NewService returns the service.
func NewService(pool *pgxpool.Pool, d Deps) *Service {
	return &Service{pool: pool, limiter: d.Limiter, outbox: d.Outbox, codes: d.Codes, tokens: d.QR, now: d.Now}
}

// Create authorizes a payment (and captures it at once in automatic mode).
//
// A QR payload or short code is used in the same transaction as the debit.
// An OTP credential with a phone starts a challenge and answers
// *OTPRequiredError; with a challenge id and code it pays. Guesses (see
// isGuess) count against the caller's terminal, key and merchant
// (ratelimit), which also serializes the attempts of one terminal.
func (s *Service) Create(ctx context.Context, r Request) (Payment, error) {
	p, err := s.create(ctx, r)
	if code := declineCode(err); code != "" {
		metrics.From(ctx).PaymentDeclined(ctx, code)
	}
	return p, err
}

// declineCode names a payment refused for the customer's money or
// credential (the metrics' decline_code, spelled as the API's error code);
// "" for a success, a malformed request, a step (OTP required) or a fault.
func declineCode(err error) string {
	var qrErr *qr.InvalidError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrInsufficientFunds):
		return "insufficient_funds"
	case errors.Is(err, ErrCredentialInvalid), errors.As(err, &qrErr):
		return "credential_invalid"
	case errors.Is(err, ErrOTPAttemptsExhausted):
		return "otp_attempts_exhausted"
	case isGuess(err), errors.Is(err, ErrOTPInvalid):
		return "otp_invalid"
	case errors.Is(err, ratelimit.ErrLimited):
		return "rate_limited"
	case errors.Is(err, wallets.ErrNotVerified):
		return "wallet_not_verified"
	case errors.Is(err, checkout.ErrClosed):
		return "checkout_session_closed"
	}
	return ""
}

func (s *Service) create(ctx context.Context, r Request) (Payment, error) {
	if err := wallets.CheckCurrency(r.Currency, FieldCurrency); err != nil {
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
	caller := identity.CallerOf(r.Caller, r.Context.TerminalID)
	if r.Credential.Type == CredentialQR {
		return s.payByQR(ctx, r, caller)
	}
	var p Payment
	err := s.limiter.Guard(ctx, caller, func(ctx context.Context) error {
		walletID, err := s.verifyChallenge(ctx, r.Caller.MerchantID, r.Credential)
		if err != nil {
			return err
		}
		p, err = dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Payment, error) {
			return s.authorize(ctx, q, r, func(paymentID string) (string, error) {
				return walletID, useChallenge(ctx, q, r.Caller.MerchantID, r.Credential.ChallengeID, paymentID, s.now())
			})
		})
		return err
	}, isGuess)
	return p, err
}

// payByQR pays with a QR payload or short code. The caller's guess gate
// and the use of the token are one statement (qr.Service.Use), the first of the
// payment's savepoint: a good payment pays nothing extra for the limit. A
// token that cannot pay leaves nothing written, so its savepoint is kept
// rather than rolled back and the gate's lock stays with the request's
// transaction (rolling back would release it), where a guess is counted
// before the lock goes at commit.
func (s *Service) payByQR(ctx context.Context, r Request, caller identity.Caller) (Payment, error) {
	var p Payment
	var outcome error
	err := dbx.InRequestTx(ctx, s.pool, func(ctx context.Context, q *db.Queries) error {
		gate := s.limiter.Gate(caller)
		var miss error
		var err error
		p, err = dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Payment, error) {
			p, err := s.authorize(ctx, q, r, func(paymentID string) (string, error) {
				walletID, err := s.tokens.Use(ctx, q, r.Credential.Value, paymentID, gate)
				var invalid *qr.InvalidError
				if errors.Is(err, ratelimit.ErrLimited) || errors.As(err, &invalid) {
					miss = err
					return "", errNothingWritten
				}
				return walletID, err
			})
			if errors.Is(err, errNothingWritten) {
				return Payment{}, nil // keep the savepoint: the gate's lock stays with the request
			}
			return p, err
		})
		outcome = err // a failed payment was rolled back with its savepoint
		if err == nil {
			outcome = miss
		}
		if isGuess(outcome) {
			return s.limiter.Count(ctx, q, gate)
		}
		return nil
	})
	if err != nil {
		return Payment{}, err
	}
	return p, outcome
}

// errNothingWritten stops a payment whose credential could not pay before
// it wrote anything, so its savepoint need not be rolled back.
var errNothingWritten = errors.New("the credential could not pay; nothing was written")

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

// authorize runs in the payment's transaction: it uses the credential
// (use spends it for the payment and names its wallet), locks the checkout
// session (if any) and the wallet, expires the wallet's due grants,
// allocates promo first and books the payment: one movement straight to
// the merchant in automatic mode, an authorization into the hold in manual
// mode.
func (s *Service) authorize(ctx context.Context, q *db.Queries, r Request, use func(paymentID string) (walletID string, err error)) (Payment, error) {
	merchantID := r.Caller.MerchantID
	paymentID := ids.New(ids.Payment)
	walletID, err := use(paymentID)
	if err != nil {
		return Payment{}, err
	}
	if r.CheckoutSessionID != "" {
		if err := checkout.LockForPayment(ctx, q, merchantID, r.CheckoutSessionID, r.Currency, r.Amount, s.now()); err != nil {
			return Payment{}, err
		}
	}
	w, err := wallets.GetForUpdate(ctx, q, merchantID, walletID)
	if err != nil {
		return Payment{}, err
	}
	switch {
	case w.Currency != r.Currency:
		return Payment{}, &CredentialInvalidError{Reason: ReasonCurrencyMismatch, Input: fielderr.Input{Field: FieldCredential}}
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
	if p, err = insert(ctx, q, p, now); err != nil {
		return Payment{}, err
	}
	if err := recordEvent(ctx, q, p, now); err != nil {
		return Payment{}, err
	}
	if r.CheckoutSessionID != "" {
		if err := checkout.Complete(ctx, q, checkout.Completion{
			MerchantID: merchantID, SessionID: r.CheckoutSessionID, PaymentID: p.ID, CustomerID: p.CustomerID, WalletID: p.WalletID,
		}); err != nil {
			return Payment{}, err
		}
	}
	metrics.From(ctx).PaymentAuthorized(ctx, metrics.Money{Currency: p.Currency, Actual: actual, Promo: promo}, r.CaptureMode == CaptureAutomatic)
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

// route names where a payment's promo and actual money go, each within
// its class.
type route struct {
	promoFrom, promoTo, actualFrom, actualTo ledger.Account
}

// entries move promo and actual along the route (no entry for a zero).
func (r route) entries(promo, actual int64) []ledger.Entry {
	var es []ledger.Entry
	if promo > 0 {
		es = append(es, ledger.Entry{Account: r.promoFrom, Amount: -promo}, ledger.Entry{Account: r.promoTo, Amount: promo})
	}
	if actual > 0 {
		es = append(es, ledger.Entry{Account: r.actualFrom, Amount: -actual}, ledger.Entry{Account: r.actualTo, Amount: actual})
	}
	return es
}

// authorizationEntries move the authorized money from the wallet into the
// payment's hold.
func authorizationEntries(p Payment) []ledger.Entry {
	return route{
		ledger.WalletPromoAvailable(p.WalletID), ledger.HoldPromo(p.ID), ledger.WalletActual(p.WalletID), ledger.HoldActual(p.ID),
	}.entries(p.PromoApplied, p.ActualApplied)
}

// paymentEntries move the authorized money straight from the wallet to
// the merchant (promo to promo_redeemed, actual to revenue): an automatic
// capture.
func paymentEntries(p Payment) []ledger.Entry {
	return route{
		ledger.WalletPromoAvailable(p.WalletID), ledger.PromoRedeemed(p.MerchantID), ledger.WalletActual(p.WalletID), ledger.Revenue(p.MerchantID),
	}.entries(p.PromoApplied, p.ActualApplied)
}

// captureEntries move the captured part of the hold to the merchant.
func captureEntries(p Payment, promo, actual int64) []ledger.Entry {
	return route{
		ledger.HoldPromo(p.ID), ledger.PromoRedeemed(p.MerchantID), ledger.HoldActual(p.ID), ledger.Revenue(p.MerchantID),
	}.entries(promo, actual)
}

// Get reads a payment the integration made. Another integration's payment
// of the same merchant is ErrNotFound, exactly as a missing one, as
// transactions are: two POS vendors of one merchant see their own work only.
func (s *Service) Get(ctx context.Context, merchantID, integrationID, id string) (Payment, error) {
	p, err := get(ctx, dbx.Q(ctx, s.pool), merchantID, id, false)
	if err != nil {
		return Payment{}, err
	}
	return p, p.ownedBy(integrationID)
}

// eventTypes name the event of the state a change left a payment in.
var eventTypes = map[Status]events.Type{
	StatusAuthorized: events.PaymentAuthorized,
	StatusCaptured:   events.PaymentCaptured,
	StatusClosed:     events.PaymentClosed,
	StatusExpired:    events.PaymentExpired,
}

// recordEvent records the state a change left the payment in, in the
// change's transaction; only the integration that made it sees it.
func recordEvent(ctx context.Context, q *db.Queries, p Payment, now time.Time) error {
	return events.Record(ctx, q, events.Event{
		Type: eventTypes[p.Status], MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, Object: p, At: now,
	})
}

// ownedBy answers ErrNotFound unless the integration made the payment. It is
// checked before any state, so a refusal never says whether the payment
// exists or what became of it.
func (p Payment) ownedBy(integrationID string) error {
	if p.IntegrationID != integrationID {
		return ErrNotFound
	}
	return nil
}
