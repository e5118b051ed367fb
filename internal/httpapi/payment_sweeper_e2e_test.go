package httpapi_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/payments"
)

func TestExpirySweeperSurvivesAFailingPayment(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	broken := e.authorizeManual(e.wallet(5000).ID, 1000)
	healthy := e.authorizeManual(e.wallet(5000).ID, 1000)
	// The broken payment, authorized first, is due first, so a sweep that
	// stops at its first failure never reaches the healthy one.
	e.S.Clock.Advance(payments.AuthorizationTTL + time.Hour)
	// Its expiry fails in the database (this test's own database).
	e.exec(`CREATE FUNCTION test_fail_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure'; END; $$`)
	e.exec(`CREATE TRIGGER test_fail_expiry BEFORE INSERT ON ledger_transactions FOR EACH ROW
		WHEN (NEW.payment_id = '` + broken.Id + `' AND NEW.type = 'payment_expiry') EXECUTE FUNCTION test_fail_expiry()`)

	failuresBefore := payments.ExpiryFailures()
	expired, err := e.S.App.Server.Payments.ExpireDue(e.Ctx)
	require.NoError(t, err)
	require.Equal(t, 1, expired)
	require.Equal(t, client.PaymentStatusExpired, e.payment(healthy.Id).Status, "the others still expire")
	require.Equal(t, client.PaymentStatusAuthorized, e.payment(broken.Id).Status)
	require.GreaterOrEqual(t, payments.ExpiryFailures()-failuresBefore, int64(1), "the failure is counted")
	require.Equal(t, 1, e.count(`SELECT count(*) FROM payments WHERE id = $1 AND expiry_attempts = 1
		AND expiry_retry_at BETWEEN $2::timestamptz + interval '50 seconds' AND $2::timestamptz + interval '70 seconds'`,
		broken.Id, e.S.Clock.Now()), "retried after a backoff")

	// Within its backoff the next sweep leaves it alone.
	expired, err = e.S.App.Server.Payments.ExpireDue(e.Ctx)
	require.NoError(t, err)
	require.Zero(t, expired)
	require.Equal(t, 1, e.count(`SELECT expiry_attempts FROM payments WHERE id = $1`, broken.Id))

	// Repaired and due again, it expires.
	e.exec(`DROP TRIGGER test_fail_expiry ON ledger_transactions`)
	e.S.Clock.Advance(2 * time.Minute)
	expired, err = e.S.App.Server.Payments.ExpireDue(e.Ctx)
	require.NoError(t, err)
	require.Equal(t, 1, expired)
	require.Equal(t, client.PaymentStatusExpired, e.payment(broken.Id).Status)
}
