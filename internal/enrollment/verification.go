package enrollment

import (
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/secrethash"
)

// The rules of verification (docs/pending-proof.md, "The rules"; the
// document's /enroll operations).
const (
	// CodeLifetime is how long a code and its link work after being sent.
	CodeLifetime = 15 * time.Minute
	// MaxAttempts is how many wrong codes kill the current code.
	MaxAttempts = 5
	// ResendInterval is the least time between two sends.
	ResendInterval = 60 * time.Second
	// MaxResends is how many resends the rolling ResendWindow allows.
	MaxResends = 3
	// ResendWindow is the rolling window MaxResends counts over.
	ResendWindow = 24 * time.Hour
)

// State is what a client sees of a verification.
type State struct {
	VerificationID    string
	ExpiresAt         time.Time
	AttemptsRemaining int
	ResendsRemaining  int
	ResendAvailableAt time.Time
}

// verification is a stored phone-ownership proof.
type verification struct {
	id, merchantID, customerID, walletID, phone string
	verified                                    bool
	codeHash, linkHash                          []byte
	expiresAt, lastSentAt                       time.Time
	failedAttempts                              int
	resentAt                                    []time.Time
}

func verificationFromRow(r db.Verification) verification {
	return verification{
		id: r.ID, merchantID: r.MerchantID, customerID: r.CustomerID, walletID: r.WalletID, phone: r.Phone,
		verified: r.State == "verified", codeHash: r.CodeHash, linkHash: r.LinkTokenHash,
		expiresAt: r.ExpiresAt, lastSentAt: r.LastSentAt, failedAttempts: int(r.FailedAttempts), resentAt: r.ResentAt,
	}
}

// recentResends are the resends inside the rolling window, oldest first.
func (v verification) recentResends(now time.Time) []time.Time {
	var out []time.Time
	for _, t := range v.resentAt {
		if t.After(now.Add(-ResendWindow)) {
			out = append(out, t)
		}
	}
	return out
}

// state is the verification as the client sees it at now.
func (v verification) state(now time.Time) State {
	recent := v.recentResends(now)
	available := v.lastSentAt.Add(ResendInterval)
	if len(recent) >= MaxResends {
		if freed := recent[len(recent)-MaxResends].Add(ResendWindow); freed.After(available) {
			available = freed
		}
	}
	return State{
		VerificationID:    v.id,
		ExpiresAt:         v.expiresAt,
		AttemptsRemaining: max(MaxAttempts-v.failedAttempts, 0),
		ResendsRemaining:  max(MaxResends-len(recent), 0),
		ResendAvailableAt: available,
	}
}

// checkUsable says why the current code cannot be tried, if it cannot.
func (v verification) checkUsable(now time.Time) error {
	switch {
	case v.verified:
		return &AlreadyEnrolledError{CustomerID: v.customerID}
	case v.failedAttempts >= MaxAttempts:
		return exhaustedError{}
	case !now.Before(v.expiresAt):
		return ErrExpired
	}
	return nil
}

// matches compares the proof with the stored hashes in constant time
// (secrets.go says how they are keyed).
func (v verification) matches(codes *secrethash.Hasher, p Proof) bool {
	if p.LinkToken != "" {
		return codes.Matches(v.linkHash, secrethash.EnrollmentLink, v.id, p.LinkToken)
	}
	return codes.Matches(v.codeHash, secrethash.EnrollmentCode, v.id, p.Code)
}

// checkResend says why a new code cannot be sent now, if it cannot. The
// daily limit is reported before the 60-second spacing: it is the longer
// wait.
func (v verification) checkResend(now time.Time) error {
	if v.verified {
		return &AlreadyEnrolledError{CustomerID: v.customerID}
	}
	if recent := v.recentResends(now); len(recent) >= MaxResends {
		freed := recent[len(recent)-MaxResends].Add(ResendWindow)
		return &WaitError{sentinel: ErrResendLimitReached, Wait: freed.Sub(now)}
	}
	if next := v.lastSentAt.Add(ResendInterval); now.Before(next) {
		return &WaitError{sentinel: ErrRateLimited, Wait: next.Sub(now)}
	}
	return nil
}
