package enrollment_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/jobs"
	"github.com/feddi/partner-api/internal/platform/secrethash"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/wallets"
)

const phone = "+4917698765432"

type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	svc    *enrollment.Service
	caller enrollment.Caller
	clock  *clock.Clock
}

func setup(t *testing.T) bundle {
	t.Helper()
	ctx := context.Background()
	pool := testdb.New(t)
	caller := tenant(t, pool)
	clk := clock.New()
	js := jobs.NewSetup()
	river.AddWorker(js.Workers, sms.NewSendWorker(pool, &sms.LogSender{Logger: quiet()}, quiet(), clk.Now))
	client, err := jobs.NewClient(pool, js, quiet())
	require.NoError(t, err)
	codes, err := secrethash.New(config.Sandbox, nil, nil)
	require.NoError(t, err)
	svc := enrollment.NewService(pool, enrollment.Config{Outbox: sms.NewOutbox(client, clk.Now), Now: clk.Now, Codes: codes})
	return bundle{ctx: ctx, pool: pool, svc: svc, caller: caller, clock: clk}
}

func tenant(t *testing.T, pool *pgxpool.Pool) enrollment.Caller {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	m, err := q.MerchantInsert(ctx, db.MerchantInsertParams{ID: ids.New(ids.Merchant), Name: "Test"})
	require.NoError(t, err)
	i, err := q.IntegrationInsert(ctx, db.IntegrationInsertParams{ID: ids.New(ids.Integration), MerchantID: m.ID, Name: "POS"})
	require.NoError(t, err)
	return enrollment.Caller{MerchantID: m.ID, IntegrationID: i.ID, Context: ledger.Context{TerminalID: "till-04"}}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func welcome(amount int64) *enrollment.WelcomeGrant {
	return &enrollment.WelcomeGrant{Amount: amount, ExpiresInDays: 90}
}

func (b bundle) initiate(t *testing.T, e enrollment.Enrollee) enrollment.Initiation {
	t.Helper()
	if e.Phone == "" {
		e.Phone = phone
	}
	in, err := b.svc.Initiate(b.ctx, b.caller, e)
	require.NoError(t, err)
	return in
}

var smsSecrets = regexp.MustCompile(`code is (\d{6})\. Or tap \S+/(ver_[0-9A-Z]{26})/([A-Za-z0-9_-]+) `)

// lastSMS reads the code and link token of the newest queued message of the
// verification, as the customer's phone would.
func (b bundle) lastSMS(t *testing.T, verificationID string) (code, token string) {
	t.Helper()
	var body string
	require.NoError(t, b.pool.QueryRow(b.ctx,
		`SELECT body FROM sms_outbox WHERE subject_id = $1 AND state = 'queued' ORDER BY id DESC LIMIT 1`, verificationID).Scan(&body))
	m := smsSecrets.FindStringSubmatch(body)
	require.NotNil(t, m, "unexpected SMS text %q", body)
	require.Equal(t, verificationID, m[2])
	return m[1], m[3]
}

func (b bundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, sql, args...).Scan(&n))
	return n
}

func (b bundle) walletStatus(t *testing.T, walletID string) string {
	t.Helper()
	var s string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT status FROM wallets WHERE id = $1`, walletID).Scan(&s))
	return s
}

func (b bundle) grantStates(t *testing.T, walletID string) []string {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT state FROM grants WHERE wallet_id = $1 ORDER BY id`, walletID)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// issueLocked adds another locked grant to a wallet (as a reload bonus of a
// pending_proof wallet would be).
func (b bundle) issueLocked(t *testing.T, walletID string, amount int64) grants.Grant {
	t.Helper()
	g, err := dbx.InTxValue(b.ctx, b.pool, func(ctx context.Context, q *db.Queries) (grants.Grant, error) {
		g, _, err := grants.Issue(ctx, q, grants.NewGrant{
			MerchantID: b.caller.MerchantID, IntegrationID: b.caller.IntegrationID, WalletID: walletID,
			Source: grants.SourceReloadBonus, Amount: amount, ExpiresAt: b.clock.Now().Add(24 * time.Hour), Locked: true,
		}, b.clock.Now())
		return g, err
	})
	require.NoError(t, err)
	return g
}

func TestInitiate(t *testing.T) {
	t.Parallel()

	t.Run("CreatesAPendingWalletWithALockedWelcomeGrantAndQueuesTheSMS", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		in := b.initiate(t, enrollment.Enrollee{DisplayName: "Jonas M.", Currency: "EUR", CardFingerprint: "fp_1", WelcomeGrant: welcome(500)})

		require.True(t, in.Created)
		require.Equal(t, wallets.StatusPendingProof, in.Wallet.Status)
		require.Equal(t, in.CustomerID, in.Wallet.CustomerID)
		require.Equal(t, "EUR", in.Wallet.Currency)
		require.Nil(t, in.Wallet.VerifiedAt)
		require.Equal(t, int64(500), in.Wallet.Balance.PromoLocked)
		require.Zero(t, in.Wallet.Balance.PromoAvailable)
		require.Zero(t, in.Wallet.Balance.Actual)

		require.Len(t, in.Grants, 1)
		g := in.Grants[0]
		require.Equal(t, grants.StateLocked, g.State)
		require.Equal(t, grants.SourceWelcome, g.Source)
		require.Equal(t, int64(500), g.Remaining)
		require.WithinDuration(t, now.Add(90*24*time.Hour), g.ExpiresAt, 5*time.Second)
		require.Len(t, g.History, 1)
		require.Equal(t, grants.ReasonIssued, g.History[0].Reason)

		v := in.Verification
		require.True(t, ids.Valid(ids.Verification, v.VerificationID))
		require.WithinDuration(t, now.Add(15*time.Minute), v.ExpiresAt, 5*time.Second)
		require.Equal(t, 5, v.AttemptsRemaining)
		require.Equal(t, 3, v.ResendsRemaining)
		require.WithinDuration(t, now.Add(time.Minute), v.ResendAvailableAt, 5*time.Second)

		code, token := b.lastSMS(t, v.VerificationID)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sms_outbox`))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sms_send'`))
		// Neither secret is stored, in clear or as a bare hash.
		bare := sha256.Sum256([]byte(code))
		require.Zero(t, b.count(t, `SELECT count(*) FROM verifications WHERE
			position($1::bytea in code_hash) > 0 OR code_hash = $2 OR position($3::bytea in link_token_hash) > 0 OR row(verifications.*)::text LIKE '%' || $4 || '%' OR row(verifications.*)::text LIKE '%' || $5 || '%'`,
			[]byte(code), bare[:], []byte(token), code, token))
	})

	t.Run("WithoutWelcomeGrantOrCurrencyUsesTheFirstServedCurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		require.Equal(t, "EUR", in.Wallet.Currency)
		require.Empty(t, in.Grants)
		require.Zero(t, in.Wallet.Balance.PromoLocked)
	})

	t.Run("APendingPhoneGetsItsEnrollmentBackWithoutANewSMS", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		again := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(900), Currency: "USD"})
		require.False(t, again.Created)
		require.Equal(t, first.CustomerID, again.CustomerID)
		require.Equal(t, first.Wallet.ID, again.Wallet.ID)
		require.Equal(t, first.Verification.VerificationID, again.Verification.VerificationID)
		require.Equal(t, int64(500), again.Wallet.Balance.PromoLocked, "no second welcome grant")
		require.Len(t, again.Grants, 1)
		require.Equal(t, first.Grants[0].ID, again.Grants[0].ID)
		require.NotEmpty(t, again.Grants[0].History)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sms_outbox`))
	})

	t.Run("AVerifiedPhoneIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.NoError(t, err)

		_, err = b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: phone})
		var already *enrollment.AlreadyEnrolledError
		require.ErrorAs(t, err, &already)
		require.ErrorIs(t, err, enrollment.ErrAlreadyEnrolled)
		require.Equal(t, in.CustomerID, already.CustomerID)
		require.Equal(t, map[string]any{"customer_id": in.CustomerID}, already.Details())
	})

	t.Run("PhonesArePerMerchant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mine := b.initiate(t, enrollment.Enrollee{})
		theirs, err := b.svc.Initiate(b.ctx, tenant(t, b.pool), enrollment.Enrollee{Phone: phone})
		require.NoError(t, err)
		require.True(t, theirs.Created)
		require.NotEqual(t, mine.CustomerID, theirs.CustomerID)
	})

	t.Run("RefusesAPhoneNotInE164Form", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: "0176 98765432"})
		require.ErrorIs(t, err, enrollment.ErrInvalid)
	})

	t.Run("RefusesAnUnservedCurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: phone, Currency: "XXX"})
		require.ErrorIs(t, err, wallets.ErrCurrencyNotSupported)
		require.Zero(t, b.count(t, `SELECT count(*) FROM customers`))
	})

	t.Run("RefusesACardLinkedToAnotherCustomer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.initiate(t, enrollment.Enrollee{CardFingerprint: "fp_1", ProviderCustomerID: "crm-1"})
		_, err := b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: "+4915100000001", CardFingerprint: "fp_1"})
		require.ErrorIs(t, err, enrollment.ErrInvalid)
		var field fielderr.Fielder
		require.ErrorAs(t, err, &field)
		require.Equal(t, enrollment.FieldCardFingerprint, field.InputField().Field)
		_, err = b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: "+4915100000001", ProviderCustomerID: "crm-1"})
		require.ErrorIs(t, err, enrollment.ErrInvalid)
	})

	t.Run("ConcurrentInitiatesOfOnePhoneMakeOneEnrollment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 8
		results := make([]enrollment.Initiation, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = b.svc.Initiate(b.ctx, b.caller, enrollment.Enrollee{Phone: phone, WelcomeGrant: welcome(500)})
			})
		}
		wg.Wait()
		created := 0
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, results[0].Wallet.ID, results[i].Wallet.ID)
			if results[i].Created {
				created++
			}
		}
		require.Equal(t, 1, created)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM grants`))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sms_outbox`))
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()

	t.Run("TheCodeVerifiesTheWalletAndReleasesEveryLockedGrant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		bonus := b.issueLocked(t, in.Wallet.ID, 250)
		code, _ := b.lastSMS(t, in.Verification.VerificationID)

		r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.NoError(t, err)
		require.Equal(t, wallets.StatusVerified, r.Wallet.Status)
		require.NotNil(t, r.Wallet.VerifiedAt)
		require.Equal(t, int64(750), r.Wallet.Balance.PromoAvailable)
		require.Zero(t, r.Wallet.Balance.PromoLocked)
		require.Len(t, r.Released, 2)
		released := map[string]grants.Grant{}
		for _, g := range r.Released {
			released[g.ID] = g
			require.Equal(t, grants.StateAvailable, g.State)
			last := g.History[len(g.History)-1]
			require.Equal(t, grants.ReasonWalletVerified, last.Reason)
			require.Equal(t, grants.StateLocked, last.From)
		}
		require.Contains(t, released, in.Grants[0].ID)
		require.Contains(t, released, bonus.ID)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM ledger_transactions WHERE type = 'promo_release' AND wallet_id = $1 AND amount_minor = 750 AND terminal_id = 'till-04'`, in.Wallet.ID))
	})

	t.Run("TheLinkTokenVerifiesToo", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		_, token := b.lastSMS(t, in.Verification.VerificationID)
		r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, LinkToken: token})
		require.NoError(t, err)
		require.Equal(t, wallets.StatusVerified, r.Wallet.Status)
	})

	t.Run("ThePhoneNamesTheVerification", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: phone, Code: code})
		require.NoError(t, err)
		require.Equal(t, in.Wallet.ID, r.Wallet.ID)
		require.Empty(t, r.Released)

		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: phone, Code: code})
		require.ErrorIs(t, err, enrollment.ErrAlreadyEnrolled, "a second verify finds the wallet verified")
	})

	t.Run("WrongCodesCountDownThenExhaust", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		wrong := enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: other(code)}
		for remaining := 4; remaining >= 1; remaining-- {
			_, err := b.svc.Verify(b.ctx, b.caller, wrong)
			var invalid *enrollment.CodeInvalidError
			require.ErrorAs(t, err, &invalid)
			require.Equal(t, remaining, invalid.AttemptsRemaining)
			require.Equal(t, map[string]any{"attempts_remaining": remaining}, invalid.Details())
			require.Equal(t, enrollment.FieldProofCode, invalid.InputField().Field)
		}
		_, err := b.svc.Verify(b.ctx, b.caller, wrong)
		require.ErrorIs(t, err, enrollment.ErrAttemptsExhausted, "the fifth wrong code kills the code")
		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.ErrorIs(t, err, enrollment.ErrAttemptsExhausted, "even the right code is refused now")
		require.Equal(t, 5, b.count(t, `SELECT failed_attempts FROM verifications WHERE id = $1`, in.Verification.VerificationID))
		require.Equal(t, "pending_proof", b.walletStatus(t, in.Wallet.ID))
	})

	t.Run("AWrongLinkTokenIsAboutTheToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: phone, LinkToken: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
		var invalid *enrollment.CodeInvalidError
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, enrollment.FieldProofLinkToken, invalid.InputField().Field)
		require.Equal(t, 1, b.count(t, `SELECT failed_attempts FROM verifications WHERE id = $1`, in.Verification.VerificationID))
	})

	t.Run("ACodeExpiresAfterFifteenMinutes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		b.clock.Advance(15 * time.Minute)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.ErrorIs(t, err, enrollment.ErrExpired)
	})

	t.Run("UnknownOrAnotherMerchantsVerificationIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: ids.New(ids.Verification), Code: code})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: "+4915100000009", Code: code})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = b.svc.Verify(b.ctx, tenant(t, b.pool), enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
	})

	t.Run("NeedsExactlyOneTargetAndOneSecret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for name, p := range map[string]enrollment.Proof{
			"no target":   {Code: "123456"},
			"two targets": {VerificationID: ids.New(ids.Verification), Phone: phone, Code: "123456"},
			"no secret":   {Phone: phone},
			"two secrets": {Phone: phone, Code: "123456", LinkToken: "AAAAAAAAAAAAAAAAAAAA"},
		} {
			_, err := b.svc.Verify(b.ctx, b.caller, p)
			require.ErrorIs(t, err, enrollment.ErrInvalid, name)
		}
	})

	t.Run("AFailureInsideTheTransactionLeavesEverythingLocked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		b.issueLocked(t, in.Wallet.ID, 250)
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		// A fault injected in the middle of the release: after the wallet
		// flipped and the verification was marked, when the grants change.
		_, err := b.pool.Exec(b.ctx, `
			CREATE FUNCTION fail_release() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'injected failure releasing %', NEW.id; END $$;
			CREATE TRIGGER fail_release BEFORE UPDATE ON grants FOR EACH ROW
			WHEN (NEW.state = 'available' AND NEW.wallet_id = '`+in.Wallet.ID+`') EXECUTE FUNCTION fail_release();`)
		require.NoError(t, err)

		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.ErrorContains(t, err, "injected failure")
		require.Equal(t, "pending_proof", b.walletStatus(t, in.Wallet.ID))
		require.Equal(t, []string{"locked", "locked"}, b.grantStates(t, in.Wallet.ID))
		require.Equal(t, 750, b.count(t, `SELECT promo_locked_minor FROM wallets WHERE id = $1`, in.Wallet.ID))
		require.Zero(t, b.count(t, `SELECT promo_available_minor FROM wallets WHERE id = $1`, in.Wallet.ID))
		require.Zero(t, b.count(t, `SELECT count(*) FROM ledger_transactions WHERE type = 'promo_release'`))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM verifications WHERE id = $1 AND state = 'pending' AND failed_attempts = 0`, in.Verification.VerificationID))

		// With the fault gone, the same code still works.
		_, err = b.pool.Exec(b.ctx, `DROP TRIGGER fail_release ON grants`)
		require.NoError(t, err)
		r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
		require.NoError(t, err)
		require.Len(t, r.Released, 2)
	})

	t.Run("ConcurrentVerifiesReleaseOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		const n = 8
		errs := make([]error, n)
		released := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: in.Verification.VerificationID, Code: code})
				errs[i], released[i] = err, len(r.Released)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i := range n {
			if errs[i] == nil {
				ok++
				require.Equal(t, 1, released[i])
				continue
			}
			require.ErrorIs(t, errs[i], enrollment.ErrAlreadyEnrolled)
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM ledger_transactions WHERE type = 'promo_release'`))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM grant_events WHERE reason = 'wallet_verified'`))
		require.Equal(t, 500, b.count(t, `SELECT promo_available_minor FROM wallets WHERE id = $1`, in.Wallet.ID))
	})
}

func TestResend(t *testing.T) {
	t.Parallel()

	t.Run("WaitsSixtySecondsBetweenSends", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		b.clock.Advance(20 * time.Second)
		_, err := b.svc.Resend(b.ctx, b.caller, enrollment.Target{VerificationID: in.Verification.VerificationID})
		var wait *enrollment.WaitError
		require.ErrorAs(t, err, &wait)
		require.ErrorIs(t, err, enrollment.ErrRateLimited)
		require.InDelta(t, 40, wait.RetryAfterSeconds(), 2)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sms_outbox`))
	})

	t.Run("ANewCodeKillsTheOldOneAndRenewsTheAttempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		vid := in.Verification.VerificationID
		oldCode, oldToken := b.lastSMS(t, vid)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, Code: other(oldCode)})
		require.ErrorIs(t, err, enrollment.ErrCodeInvalid)

		b.clock.Advance(61 * time.Second)
		now := b.clock.Now()
		st, err := b.svc.Resend(b.ctx, b.caller, enrollment.Target{Phone: phone})
		require.NoError(t, err)
		require.Equal(t, vid, st.VerificationID)
		require.Equal(t, 5, st.AttemptsRemaining)
		require.Equal(t, 2, st.ResendsRemaining)
		require.WithinDuration(t, now.Add(15*time.Minute), st.ExpiresAt, time.Second)
		require.WithinDuration(t, now.Add(time.Minute), st.ResendAvailableAt, time.Second)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sms_outbox WHERE state = 'superseded' AND body IS NULL`),
			"the old message, not sent yet, will not be sent")

		newCode, _ := b.lastSMS(t, vid)
		if newCode != oldCode {
			_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, Code: oldCode})
			require.ErrorIs(t, err, enrollment.ErrCodeInvalid, "the old code is dead")
		}
		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, LinkToken: oldToken})
		require.ErrorIs(t, err, enrollment.ErrCodeInvalid, "the old link is dead")
		r, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, Code: newCode})
		require.NoError(t, err)
		require.Len(t, r.Released, 1)
	})

	t.Run("RevivesAnExpiredOrExhaustedVerification", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		vid := in.Verification.VerificationID
		for range 5 {
			_, _ = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, Code: "000000"})
		}
		b.clock.Advance(time.Hour)
		_, err := b.svc.Resend(b.ctx, b.caller, enrollment.Target{VerificationID: vid})
		require.NoError(t, err)
		code, _ := b.lastSMS(t, vid)
		_, err = b.svc.Verify(b.ctx, b.caller, enrollment.Proof{VerificationID: vid, Code: code})
		require.NoError(t, err)
	})

	t.Run("AllowsThreeResendsPerRollingDay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		target := enrollment.Target{VerificationID: in.Verification.VerificationID}
		for left := 2; left >= 0; left-- {
			b.clock.Advance(time.Hour)
			st, err := b.svc.Resend(b.ctx, b.caller, target)
			require.NoError(t, err)
			require.Equal(t, left, st.ResendsRemaining)
		}
		b.clock.Advance(time.Hour)
		_, err := b.svc.Resend(b.ctx, b.caller, target)
		var wait *enrollment.WaitError
		require.ErrorAs(t, err, &wait)
		require.ErrorIs(t, err, enrollment.ErrResendLimitReached)
		require.InDelta(t, (21 * time.Hour).Seconds(), wait.RetryAfterSeconds(), 2, "the first resend leaves the window 21 hours from now")

		b.clock.Advance(21*time.Hour + time.Second)
		st, err := b.svc.Resend(b.ctx, b.caller, target)
		require.NoError(t, err)
		require.Zero(t, st.ResendsRemaining)
	})

	t.Run("AVerifiedWalletIsAlreadyEnrolled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: phone, Code: code})
		require.NoError(t, err)
		b.clock.Advance(time.Hour)
		_, err = b.svc.Resend(b.ctx, b.caller, enrollment.Target{Phone: phone})
		require.ErrorIs(t, err, enrollment.ErrAlreadyEnrolled)
	})

	t.Run("UnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Resend(b.ctx, b.caller, enrollment.Target{Phone: phone})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = b.svc.Resend(b.ctx, b.caller, enrollment.Target{})
		require.ErrorIs(t, err, enrollment.ErrInvalid)
	})
}

func TestClaim(t *testing.T) {
	t.Parallel()

	t.Run("APendingWalletNeedsProof", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		_, err := b.svc.Claim(b.ctx, b.caller, in.Wallet.ID)
		var proof *enrollment.ProofRequiredError
		require.ErrorAs(t, err, &proof)
		require.ErrorIs(t, err, enrollment.ErrProofRequired)
		require.Equal(t, in.Verification.VerificationID, proof.State.VerificationID)
		require.Equal(t, 5, proof.State.AttemptsRemaining)
		d := proof.Details()
		require.Equal(t, in.Verification.VerificationID, d["verification_id"])
		require.Equal(t, []string{"locked"}, b.grantStates(t, in.Wallet.ID))
	})

	t.Run("AVerifiedWalletReleasesWhatIsStillLockedAndRepeatsSafely", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{WelcomeGrant: welcome(500)})
		code, _ := b.lastSMS(t, in.Verification.VerificationID)
		_, err := b.svc.Verify(b.ctx, b.caller, enrollment.Proof{Phone: phone, Code: code})
		require.NoError(t, err)

		r, err := b.svc.Claim(b.ctx, b.caller, in.Wallet.ID)
		require.NoError(t, err)
		require.Empty(t, r.Released, "verify released everything")

		late := b.issueLocked(t, in.Wallet.ID, 300)
		r, err = b.svc.Claim(b.ctx, b.caller, in.Wallet.ID)
		require.NoError(t, err)
		require.Len(t, r.Released, 1)
		require.Equal(t, late.ID, r.Released[0].ID)
		require.Equal(t, grants.ReasonClaim, r.Released[0].History[len(r.Released[0].History)-1].Reason)
		require.Equal(t, int64(800), r.Wallet.Balance.PromoAvailable)

		r, err = b.svc.Claim(b.ctx, b.caller, in.Wallet.ID)
		require.NoError(t, err)
		require.Empty(t, r.Released)
	})

	t.Run("UnknownOrAnotherMerchantsWalletIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.initiate(t, enrollment.Enrollee{})
		_, err := b.svc.Claim(b.ctx, b.caller, ids.New(ids.Wallet))
		require.ErrorIs(t, err, enrollment.ErrWalletNotFound)
		_, err = b.svc.Claim(b.ctx, tenant(t, b.pool), in.Wallet.ID)
		require.ErrorIs(t, err, enrollment.ErrWalletNotFound)
	})
}

func other(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
