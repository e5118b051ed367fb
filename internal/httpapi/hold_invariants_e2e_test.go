package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/moneytest"
)

func TestHoldInvariants(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	w := e.wallet(5000)
	p := e.authorizeManual(w.ID, 1000)
	broken, err := moneytest.LedgerViolations(e.Ctx, e.S.Pool)
	require.NoError(t, err)
	require.Empty(t, broken)

	// A hold that does not hold its payment's amount is caught: the payment
	// row says captured while its hold still holds the money.
	e.exec(`UPDATE payments SET status = 'captured', actual_captured_minor = 1000 WHERE id = $1`, p.Id)
	broken, err = moneytest.LedgerViolations(e.Ctx, e.S.Pool)
	require.NoError(t, err)
	require.Contains(t, broken, "each hold holds its payment's uncaptured, unreleased amount, per money class")
	e.exec(`UPDATE payments SET status = 'authorized', actual_captured_minor = 0 WHERE id = $1`, p.Id)

	// A hold booked on another wallet than its payment's is caught.
	other := e.wallet(5000)
	e.exec(`UPDATE payments SET wallet_id = $2 WHERE id = $1`, p.Id, other.ID)
	broken, err = moneytest.LedgerViolations(e.Ctx, e.S.Pool)
	require.NoError(t, err)
	require.Contains(t, broken, "each hold account belongs to its payment, its payment's wallet and merchant")
	e.exec(`UPDATE payments SET wallet_id = $2 WHERE id = $1`, p.Id, w.ID)
}
