package payments

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/customers"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/ratelimit"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/wallets"
)

// The rules of OTP challenges.
const (
	// OTPTTL is how long a challenge's code is valid.
	OTPTTL = 5 * time.Minute
	// OTPMaxAttempts wrong codes kill a challenge.
	OTPMaxAttempts = 5
	// OTPResendInterval is the least time between two SMS to one customer.
	OTPResendInterval = 60 * time.Second
)

// startChallenge sends a one-time code to the customer behind the phone
// and answers *OTPRequiredError. The challenge and its SMS (the outbox) are
// written together; the error is the operation's outcome, so the request's
// idempotency record stores it and commits them.
func (s *Service) startChallenge(ctx context.Context, r Request) error {
	merchantID := r.Caller.MerchantID
	code, err := newOTPCode()
	if err != nil {
		return err
	}
	now := s.now()
	out, err := dbx.InTxWithTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) (*OTPRequiredError, error) {
		q := db.New(tx)
		c, err := customers.GetByPhone(ctx, q, merchantID, r.Credential.Phone)
		if errors.Is(err, customers.ErrNotFound) {
			return nil, &CredentialInvalidError{Reason: ReasonUnknown, Input: fielderr.Input{Field: FieldCredentialPhone}}
		} else if err != nil {
			return nil, err
		}
		w, err := wallets.GetByCustomer(ctx, q, merchantID, c.ID, r.Currency)
		if errors.Is(err, wallets.ErrNotFound) {
			return nil, &CredentialInvalidError{Reason: ReasonCurrencyMismatch, Input: fielderr.Input{Field: FieldCredentialPhone}}
		} else if err != nil {
			return nil, err
		}
		if w.Status != wallets.StatusVerified {
			return nil, wallets.ErrNotVerified
		}
		since, err := q.OtpChallengeSecondsSinceLast(ctx, db.OtpChallengeSecondsSinceLastParams{MerchantID: merchantID, CustomerID: c.ID, Now: now})
		if err = dbx.Interpret(err); err != nil && !errors.Is(err, dbx.ErrNotFound) {
			return nil, fmt.Errorf("reading the last OTP challenge: %w", err)
		} else if err == nil && since < OTPResendInterval.Seconds() {
			wait := time.Duration(math.Ceil(OTPResendInterval.Seconds()-since)) * time.Second
			return nil, &ratelimit.Exceeded{RetryAfter: wait}
		}
		id := ids.New(ids.OTPChallenge)
		expiresAt, err := q.OtpChallengeInsert(ctx, db.OtpChallengeInsertParams{
			ID: id, MerchantID: merchantID, CustomerID: c.ID, WalletID: w.ID,
			CodeHash: s.otpHash(id, code), TtlSeconds: int32(OTPTTL / time.Second), Now: now,
		})
		if err != nil {
			return nil, fmt.Errorf("starting OTP challenge: %w", err)
		}
		if _, err := s.outbox.Enqueue(ctx, tx, sms.Outgoing{
			MerchantID: merchantID, IntegrationID: r.Caller.IntegrationID, Phone: c.Phone, Kind: sms.KindOTP, SubjectID: id,
			Body: fmt.Sprintf("Your Feddi payment code is %s. It expires in %d minutes. Never share it.", code, int(OTPTTL/time.Minute)),
		}); err != nil {
			return nil, err
		}
		return &OTPRequiredError{ChallengeID: id, ExpiresAt: expiresAt.UTC(), MaskedPhone: sms.MaskPhone(c.Phone)}, nil
	})
	if err != nil {
		return err
	}
	return out
}

// verifyChallenge checks the code of a challenge of the merchant and
// returns the challenge's wallet. A wrong code is counted in a step of its
// own that persists although the request then fails.
func (s *Service) verifyChallenge(ctx context.Context, merchantID string, c Credential) (walletID string, err error) {
	var wrong *OTPInvalidError
	walletID, err = dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (string, error) {
		ch, err := q.OtpChallengeGetForUpdate(ctx, db.OtpChallengeGetForUpdateParams{MerchantID: merchantID, ID: c.ChallengeID, Now: s.now()})
		switch err = dbx.Interpret(err); {
		case errors.Is(err, dbx.ErrNotFound):
			return "", &CredentialInvalidError{Reason: ReasonChallengeUnknown, Input: fielderr.Input{Field: FieldCredentialChallengeID}}
		case err != nil:
			return "", fmt.Errorf("reading OTP challenge: %w", err)
		case ch.UsedAt != nil:
			return "", &CredentialInvalidError{Reason: ReasonUsed, Input: fielderr.Input{Field: FieldCredentialChallengeID}}
		case ch.Attempts >= OTPMaxAttempts:
			return "", ErrOTPAttemptsExhausted
		case ch.Expired:
			return "", &CredentialInvalidError{Reason: ReasonChallengeExpired, Input: fielderr.Input{Field: FieldCredentialChallengeID}}
		case s.codes.Matches(ch.CodeHash, secrethash.OTPCode, ch.ID, c.Code):
			return ch.WalletID, nil
		}
		attempts, err := q.OtpChallengeCountWrongCode(ctx, db.OtpChallengeCountWrongCodeParams{MerchantID: merchantID, ID: ch.ID})
		if err != nil {
			return "", fmt.Errorf("counting a wrong OTP code: %w", err)
		}
		wrong = &OTPInvalidError{AttemptsRemaining: OTPMaxAttempts - int(attempts)}
		return "", nil // commit the count, then report
	})
	switch {
	case err != nil:
		return "", err
	case wrong != nil && wrong.AttemptsRemaining == 0:
		return "", &wrongCode{ErrOTPAttemptsExhausted}
	case wrong != nil:
		return "", wrong
	}
	return walletID, nil
}

// wrongCode marks the wrong one-time code that used up a challenge's last
// attempt: it answers otp_attempts_exhausted, and it is a guess.
type wrongCode struct{ error }

func (w *wrongCode) Unwrap() error { return w.error }

// useChallenge spends a verified challenge for a payment, once, in the
// payment's transaction, at now.
func useChallenge(ctx context.Context, q *db.Queries, merchantID, challengeID, paymentID string, now time.Time) error {
	n, err := q.OtpChallengeUse(ctx, db.OtpChallengeUseParams{MerchantID: merchantID, ID: challengeID, PaymentID: &paymentID, Now: now})
	if err != nil {
		return fmt.Errorf("using OTP challenge: %w", err)
	}
	if n == 0 {
		return &CredentialInvalidError{Reason: ReasonUsed, Input: fielderr.Input{Field: FieldCredentialChallengeID}}
	}
	return nil
}

func newOTPCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("drawing an OTP code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// otpHash binds the code to its challenge, keyed with the server's OTP
// subkey (platform/secrethash): with the table alone, the 10^6 codes cannot
// be tried. It is checked under FEDDI_KEK_PREVIOUS as well, so a KEK
// rotation does not void the codes of the last 5 minutes.
func (s *Service) otpHash(challengeID, code string) []byte {
	return s.codes.Sum(secrethash.OTPCode, challengeID, code)
}
