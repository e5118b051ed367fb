package enrollment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/wallets"
)

// Verify checks the proof and, in one transaction, flips the wallet to
// verified and releases every locked grant of it. A wrong code is
// *CodeInvalidError; its attempt is counted and the count is committed even
// though the call fails (the transaction returns the verdict as a value, so
// it commits, and the error is made afterwards). The fifth wrong code, and
// every try after it, is ErrAttemptsExhausted; a late one ErrExpired.
func (s *Service) Verify(ctx context.Context, c Caller, p Proof) (Release, error) {
	if err := p.validate(); err != nil {
		return Release{}, err
	}
	type verdict struct {
		release Release
		wrong   error
	}
	now := s.now()
	out, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (verdict, error) {
		v, err := lockVerification(ctx, q, c.MerchantID, Target{VerificationID: p.VerificationID, Phone: p.Phone})
		if err != nil {
			return verdict{}, err
		}
		if err := v.checkUsable(now); err != nil {
			return verdict{}, err
		}
		if !v.matches(s.codes, p) {
			failed, err := q.VerificationRecordFailure(ctx, db.VerificationRecordFailureParams{MerchantID: v.merchantID, ID: v.id})
			if err != nil {
				return verdict{}, fmt.Errorf("counting a wrong code: %w", err)
			}
			if remaining := MaxAttempts - int(failed); remaining > 0 {
				return verdict{wrong: &CodeInvalidError{AttemptsRemaining: remaining, Input: fielderr.Input{Field: p.secretField()}}}, nil
			}
			return verdict{wrong: exhaustedError{}}, nil
		}
		if _, err := q.VerificationMarkVerified(ctx, db.VerificationMarkVerifiedParams{MerchantID: v.merchantID, ID: v.id, VerifiedAt: &now}); err != nil {
			return verdict{}, fmt.Errorf("marking verification %s verified: %w", v.id, err)
		}
		if _, err := wallets.MarkVerified(ctx, q, v.merchantID, v.walletID, now); err != nil {
			return verdict{}, err
		}
		r, err := release(ctx, q, c, v.walletID, grants.ReasonWalletVerified, now)
		if err != nil {
			return verdict{}, err
		}
		// Wallets are merchant-wide: every integration of the merchant sees
		// the event. Its snapshot is the wallet and its released grants,
		// never the phone or the code.
		return verdict{release: r}, events.Record(ctx, q, events.Event{
			Type: events.EnrollmentVerified, MerchantID: v.merchantID, Object: r, At: now,
		})
	})
	switch {
	case err != nil:
		return Release{}, err
	case out.wrong != nil:
		return Release{}, out.wrong
	}
	return out.release, nil
}

// Claim re-drives the release of a verified wallet's locked grants
// (usually there are none left: Verify releases them all). It is safe to
// repeat. A wallet still pending_proof is *ProofRequiredError with the
// state of its verification.
func (s *Service) Claim(ctx context.Context, c Caller, walletID string) (Release, error) {
	now := s.now()
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Release, error) {
		w, err := wallets.GetForUpdate(ctx, q, c.MerchantID, walletID)
		if errors.Is(err, wallets.ErrNotFound) {
			return Release{}, ErrWalletNotFound
		} else if err != nil {
			return Release{}, err
		}
		if w.Status != wallets.StatusVerified {
			row, err := q.VerificationGetByWallet(ctx, db.VerificationGetByWalletParams{MerchantID: c.MerchantID, WalletID: w.ID})
			if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
				return Release{}, ErrProofRequired
			} else if err != nil {
				return Release{}, fmt.Errorf("reading the wallet's verification: %w", err)
			}
			return Release{}, &ProofRequiredError{State: verificationFromRow(row).state(now)}
		}
		return release(ctx, q, c, w.ID, grants.ReasonClaim, now)
	})
}

// release makes every locked grant of a verified wallet available and
// reads the wallet as it is left; now decides what has expired.
func release(ctx context.Context, q *db.Queries, c Caller, walletID, reason string, now time.Time) (Release, error) {
	released, err := grants.ReleaseLocked(ctx, q, grants.Release{
		MerchantID: c.MerchantID, WalletID: walletID, IntegrationID: c.IntegrationID, Context: c.Context, Reason: reason,
	}, now)
	if err != nil {
		return Release{}, err
	}
	w, err := wallets.Get(ctx, q, c.MerchantID, walletID)
	if err != nil {
		return Release{}, err
	}
	return Release{Wallet: w, Released: released}, nil
}

// Resend sends a new code and link: the old ones die and the attempts are
// renewed. At most one send per ResendInterval (*WaitError,
// ErrRateLimited) and MaxResends per rolling ResendWindow (*WaitError,
// ErrResendLimitReached). The counters live in the verification's row,
// locked while they are checked, so every replica sees the same.
func (s *Service) Resend(ctx context.Context, c Caller, t Target) (State, error) {
	if err := t.validate(); err != nil {
		return State{}, err
	}
	now := s.now()
	return dbx.InTxWithTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) (State, error) {
		q := db.New(tx)
		v, err := lockVerification(ctx, q, c.MerchantID, t)
		if err != nil {
			return State{}, err
		}
		if err := v.checkResend(now); err != nil {
			return State{}, err
		}
		sec, err := newSecrets(s.codes, v.id)
		if err != nil {
			return State{}, err
		}
		row, err := q.VerificationRenew(ctx, db.VerificationRenewParams{
			MerchantID: v.merchantID, ID: v.id, CodeHash: sec.codeHash, LinkTokenHash: sec.linkHash,
			ExpiresAt: now.Add(CodeLifetime), LastSentAt: now, ResentAt: append(v.recentResends(now), now),
		})
		if err != nil {
			return State{}, fmt.Errorf("renewing verification %s: %w", v.id, err)
		}
		v = verificationFromRow(row)
		if err := s.send(ctx, tx, c, v, sec); err != nil {
			return State{}, err
		}
		return v.state(now), nil
	})
}

// lockVerification finds the merchant's verification by id or phone and
// locks it for the rest of the transaction.
func lockVerification(ctx context.Context, q *db.Queries, merchantID string, t Target) (verification, error) {
	var row db.Verification
	var err error
	if t.VerificationID != "" {
		row, err = q.VerificationGetForUpdate(ctx, db.VerificationGetForUpdateParams{MerchantID: merchantID, ID: t.VerificationID})
	} else {
		row, err = q.VerificationGetByPhoneForUpdate(ctx, db.VerificationGetByPhoneForUpdateParams{MerchantID: merchantID, Phone: t.Phone})
	}
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return verification{}, ErrNotFound
	} else if err != nil {
		return verification{}, fmt.Errorf("reading verification: %w", err)
	}
	return verificationFromRow(row), nil
}

func (t Target) validate() error {
	switch {
	case t.VerificationID != "" && t.Phone != "":
		return invalid(FieldTargetPhone, "give verification_id or phone, not both")
	case t.VerificationID == "" && t.Phone == "":
		return invalid(FieldTarget, "verification_id or phone is required")
	}
	return nil
}

func (p Proof) validate() error {
	if err := (Target{VerificationID: p.VerificationID, Phone: p.Phone}).validate(); err != nil {
		return err
	}
	switch {
	case p.Code != "" && p.LinkToken != "":
		return invalid(FieldProofLinkToken, "give code or link_token, not both")
	case p.Code == "" && p.LinkToken == "":
		return invalid(FieldProof, "code or link_token is required")
	}
	return nil
}

// secretField is the input a wrong proof is about.
func (p Proof) secretField() fielderr.Field {
	if p.LinkToken != "" {
		return FieldProofLinkToken
	}
	return FieldProofCode
}
