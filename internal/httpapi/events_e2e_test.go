package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// eventsPage reads one page of GET /events.
func eventsPage(t *testing.T, e *moneytest.Env, p client.ListEventsParams, auth client.RequestEditorFn) *client.ListEventsResponse {
	t.Helper()
	res, err := e.C.ListEventsWithResponse(e.Ctx, &p, auth)
	require.NoError(t, err)
	return res
}

// pollEvents pages through GET /events from cursor (nil: the start) to
// the end, as an integrator's poller does, and returns what it read and the
// cursor to keep.
func pollEvents(t *testing.T, e *moneytest.Env, p client.ListEventsParams, auth client.RequestEditorFn) ([]client.Event, *string) {
	t.Helper()
	var out []client.Event
	for {
		res := eventsPage(t, e, p, auth)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		out = append(out, res.JSON200.Data.Items...)
		if res.JSON200.Data.NextCursor != nil {
			p.Cursor = res.JSON200.Data.NextCursor
		}
		if !res.JSON200.Data.HasMore {
			return out, p.Cursor
		}
	}
}

// awaitEvents polls from the start until n events are visible: the
// listing holds an event back while any older transaction of the cluster
// is still running (a parallel test's, in its own database), for
// milliseconds.
func awaitEvents(t *testing.T, e *moneytest.Env, auth client.RequestEditorFn, n int) []client.Event {
	t.Helper()
	got, _ := awaitFrom(t, e, auth, nil, n)
	return got
}

// awaitFrom polls from cursor until n events came, and returns them with
// the cursor to keep.
func awaitFrom(t *testing.T, e *moneytest.Env, auth client.RequestEditorFn, cursor *string, n int) ([]client.Event, *string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []client.Event
	for {
		var more []client.Event
		more, cursor = pollEvents(t, e, client.ListEventsParams{Limit: moneytest.Ptr(200), Cursor: cursor}, auth)
		got = append(got, more...)
		if len(got) >= n || time.Now().After(deadline) {
			require.Len(t, got, n)
			return got, cursor
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func typesOf(es []client.Event) []client.EventType {
	out := make([]client.EventType, len(es))
	for i, ev := range es {
		out[i] = ev.Type
	}
	return out
}

// TestEventsFromEveryOperation produces every event type through its real
// operation (or sweeper, by the test clock) and reads them back.
func TestEventsFromEveryOperation(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	admin := e.AsAdmin()

	// Enrollment with a welcome grant (grant.issued), then the code
	// (enrollment.verified, grant.released).
	phone := moneytest.NewPhone()
	initiated, err := e.C.InitiateEnrollmentWithResponse(e.Ctx, &client.InitiateEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.InitiateEnrollmentInput{Meta: moneytest.Meta(), Data: client.InitiateEnrollmentInputData{
			Phone: phone, WelcomeGrant: &client.WelcomeGrantInput{AmountMinor: 500, ExpiresInDays: 90},
		}}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, initiated.StatusCode(), "body: %s", initiated.Body)
	verification := initiated.JSON200.Data.Verification.VerificationId
	var sms string
	require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT body FROM sms_outbox WHERE subject_id = $1`, verification).Scan(&sms))
	code := smsText.FindStringSubmatch(sms)
	require.NotNil(t, code, "sms: %s", sms)
	verified, err := e.C.VerifyEnrollmentWithResponse(e.Ctx, &client.VerifyEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.VerifyEnrollmentInput{Meta: moneytest.Meta(), Data: client.VerifyEnrollmentInputData{
			VerificationId: &verification, Code: &code[1],
		}}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, verified.StatusCode(), "body: %s", verified.Body)

	// topup.confirmed; payments: authorized then captured, authorized then
	// closed, captured at once (automatic), authorized then expired.
	w := pe.wallet(20000)
	captured := pe.authorizeManual(w.ID, 1000)
	require.Equal(t, http.StatusOK, pe.capture(captured.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture}).StatusCode())
	closed := pe.authorizeManual(w.ID, 1000)
	require.Equal(t, http.StatusOK, pe.capture(closed.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose}).StatusCode())
	auto := pe.payQR(pe.mint(w.ID).QrPayload, 700)
	require.Equal(t, http.StatusOK, auto.StatusCode(), "body: %s", auto.Body)
	expiring := pe.authorizeManual(w.ID, 1000)

	// Grants: one clawed back, one left to expire (grant.issued each).
	g := moneytest.Grant(t, e.S.Pool, e.Tenant, pe.wallet(0).ID, 300, time.Hour, false)
	claw, err := e.C.ClawbackGrantWithResponse(e.Ctx, g.ID, &client.ClawbackGrantParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.ClawbackGrantInput{Meta: moneytest.Meta(), Data: client.ClawbackGrantInputData{Reason: client.ClawbackReasonVoidedTopup}}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, claw.StatusCode(), "body: %s", claw.Body)
	lapsing := moneytest.Grant(t, e.S.Pool, e.Tenant, pe.wallet(0).ID, 400, payments.AuthorizationTTL, false)

	// api_key.revoked.
	keyID := revokeNewKey(t, e)

	// The sweepers, a day later: payment.expired, grant.expired.
	e.S.Clock.Advance(payments.AuthorizationTTL + time.Hour)
	n, err := e.S.App.Server.Payments.ExpireDue(e.Ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = grants.Sweep(e.Ctx, e.S.Pool, e.S.Clock.Now())
	require.NoError(t, err)

	got := awaitEvents(t, e, admin, 16)
	require.Equal(t, []client.EventType{
		client.EventTypeGrantIssued, client.EventTypeGrantReleased, client.EventTypeEnrollmentVerified,
		client.EventTypeTopupConfirmed,
		client.EventTypePaymentAuthorized, client.EventTypePaymentCaptured,
		client.EventTypePaymentAuthorized, client.EventTypePaymentClosed,
		client.EventTypePaymentCaptured,
		client.EventTypePaymentAuthorized,
		client.EventTypeGrantIssued, client.EventTypeGrantClawedBack, client.EventTypeGrantIssued,
		client.EventTypeApiKeyRevoked,
		client.EventTypePaymentExpired, client.EventTypeGrantExpired,
	}, typesOf(got), "every operation's event, in the order they committed")

	t.Run("SnapshotsAreTheAPIObjects", func(t *testing.T) {
		wantIDs := []string{
			initiated.JSON200.Data.Grants[0].Id, initiated.JSON200.Data.Grants[0].Id, initiated.JSON200.Data.Wallet.Id,
			"", captured.Id, captured.Id, closed.Id, closed.Id, auto.JSON200.Data.Id, expiring.Id,
			g.ID, g.ID, lapsing.ID, keyID, expiring.Id, lapsing.ID,
		}
		for i, ev := range got {
			require.True(t, ids.Valid(ids.Event, ev.Id), ev.Id)
			require.Equal(t, "2026-06-01", ev.ApiVersion)
			switch ev.Type {
			case client.EventTypeTopupConfirmed:
				require.Equal(t, w.ID, ev.Data["wallet"].(map[string]any)["id"])
				require.Equal(t, "topup", ev.Data["transaction"].(map[string]any)["type"])
			case client.EventTypeEnrollmentVerified:
				require.Equal(t, wantIDs[i], ev.Data["wallet"].(map[string]any)["id"])
				require.Equal(t, "verified", ev.Data["wallet"].(map[string]any)["status"])
			default:
				require.Equal(t, wantIDs[i], ev.Data["id"], "%s", ev.Type)
			}
		}
		// The state each change left, as GET shows it.
		state := map[client.EventType]string{
			client.EventTypePaymentAuthorized: "authorized", client.EventTypePaymentCaptured: "captured",
			client.EventTypePaymentClosed: "closed", client.EventTypePaymentExpired: "expired",
		}
		for _, ev := range got {
			if want, ok := state[ev.Type]; ok {
				require.Equal(t, want, ev.Data["status"])
			}
		}
		grantState := map[client.EventType]string{
			client.EventTypeGrantReleased: "available", client.EventTypeGrantClawedBack: "clawed_back", client.EventTypeGrantExpired: "expired",
		}
		for _, ev := range got {
			if want, ok := grantState[ev.Type]; ok {
				require.Equal(t, want, ev.Data["state"])
			}
		}
		require.Equal(t, "revoked", got[13].Data["status"])
		// A payment event's data is the very object GET /payments/{id} returns.
		body, err := json.Marshal(got[14].Data)
		require.NoError(t, err)
		var asPayment client.Payment
		require.NoError(t, json.Unmarshal(body, &asPayment))
		require.Equal(t, pe.payment(expiring.Id), asPayment)
	})
	t.Run("GetReadsOne", func(t *testing.T) {
		for _, ev := range got {
			res, err := e.C.GetEventWithResponse(e.Ctx, ev.Id, &client.GetEventParams{}, admin)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			require.Equal(t, ev, res.JSON200.Data)
		}
		res, err := e.C.GetEventWithResponse(e.Ctx, ids.New(ids.Event), &client.GetEventParams{}, admin)
		require.NoError(t, err)
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
	t.Run("NoPersonalData", func(t *testing.T) {
		// Every event, as served and as stored: no phone (the enrolled
		// one, the wallets' customers'), no enrollment code, no QR.
		secrets := []string{phone, strings.TrimPrefix(phone, "+"), code[1], pe.phoneOf(w.ID)}
		res := eventsPage(t, e, client.ListEventsParams{Limit: moneytest.Ptr(200)}, admin)
		rows, err := e.S.Pool.Query(e.Ctx, `SELECT data::text FROM events`)
		require.NoError(t, err)
		stored := []string{string(res.Body)}
		for rows.Next() {
			var d string
			require.NoError(t, rows.Scan(&d))
			stored = append(stored, d)
		}
		require.NoError(t, rows.Err())
		require.Len(t, stored, 17)
		for _, doc := range stored {
			for _, s := range secrets {
				require.NotContains(t, doc, s)
			}
			require.NotContains(t, doc, "phone")
		}
	})
	t.Run("FiltersByTypes", func(t *testing.T) {
		only, _ := pollEvents(t, e, client.ListEventsParams{Type: &[]client.EventType{client.EventTypePaymentClosed, client.EventTypeGrantExpired}}, admin)
		require.Equal(t, []client.EventType{client.EventTypePaymentClosed, client.EventTypeGrantExpired}, typesOf(only))
	})
	t.Run("FiltersByCreatedAt", func(t *testing.T) {
		// The sweepers ran a day later than everything else.
		after := got[13].CreatedAt.Add(time.Hour)
		late, _ := pollEvents(t, e, client.ListEventsParams{CreatedAfter: &after}, admin)
		require.Equal(t, []client.EventType{client.EventTypePaymentExpired, client.EventTypeGrantExpired}, typesOf(late))
		early, _ := pollEvents(t, e, client.ListEventsParams{CreatedBefore: &after}, admin)
		require.Len(t, early, 14)
		res := eventsPage(t, e, client.ListEventsParams{CreatedAfter: &after, CreatedBefore: &after}, admin)
		require.Equal(t, "/query/created_after", *wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed).Field)
	})
	t.Run("PagesInOrder", func(t *testing.T) {
		var paged []client.Event
		p := client.ListEventsParams{Limit: moneytest.Ptr(3)}
		for pages := 1; ; pages++ {
			res := eventsPage(t, e, p, admin)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			require.LessOrEqual(t, len(res.JSON200.Data.Items), 3)
			paged = append(paged, res.JSON200.Data.Items...)
			p.Cursor = res.JSON200.Data.NextCursor
			require.NotNil(t, p.Cursor, "a cursor on every page, the last too")
			if !res.JSON200.Data.HasMore {
				require.Equal(t, 6, pages)
				break
			}
		}
		require.Equal(t, got, paged)
		// The last cursor: nothing new, and still a cursor to keep.
		res := eventsPage(t, e, p, admin)
		require.Empty(t, res.JSON200.Data.Items)
		require.Equal(t, p.Cursor, res.JSON200.Data.NextCursor)
		// A cursor is bound to its filters.
		p.Type = &[]client.EventType{client.EventTypeGrantIssued}
		res = eventsPage(t, e, p, admin)
		require.Equal(t, "/query/cursor", *wantError(t, res, res.Body, http.StatusBadRequest, client.ErrorCodeValidationFailed).Field)
	})
}

// TestEventsVisibility: a payment's events are its integration's only;
// grants' are the merchant's; another merchant sees nothing; the scope is
// events:read.
func TestEventsVisibility(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	w := pe.wallet(5000)
	pay := pe.authorizeManual(w.ID, 1000)
	g := moneytest.Grant(t, e.S.Pool, e.Tenant, w.ID, 300, time.Hour, false)
	keyID := revokeNewKey(t, e)
	mine := awaitEvents(t, e, e.AsAdmin(), 4)
	require.Equal(t, []client.EventType{client.EventTypeTopupConfirmed, client.EventTypePaymentAuthorized,
		client.EventTypeGrantIssued, client.EventTypeApiKeyRevoked}, typesOf(mine))
	require.Equal(t, pay.Id, mine[1].Data["id"])
	require.Equal(t, keyID, mine[3].Data["id"])

	_, otherKey := e.OtherIntegration(t)
	sibling := moneytest.Key(otherKey)
	t.Run("AnotherIntegrationSeesTheMerchantsGrantsOnly", func(t *testing.T) {
		theirs := awaitEvents(t, e, sibling, 1)
		require.Equal(t, []client.EventType{client.EventTypeGrantIssued}, typesOf(theirs))
		require.Equal(t, g.ID, theirs[0].Data["id"])
		for _, ev := range mine {
			res, err := e.C.GetEventWithResponse(e.Ctx, ev.Id, &client.GetEventParams{}, sibling)
			require.NoError(t, err)
			if ev.Type == client.EventTypeGrantIssued {
				require.Equal(t, http.StatusOK, res.StatusCode())
				continue
			}
			wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
		}
	})
	t.Run("AnotherMerchantSeesNothing", func(t *testing.T) {
		other := moneytest.On(t, e.S, "Other Merchant")
		theirs, cursor := pollEvents(t, other, client.ListEventsParams{}, other.AsAdmin())
		require.Empty(t, theirs)
		require.Nil(t, cursor)
		res, err := e.C.GetEventWithResponse(e.Ctx, mine[2].Id, &client.GetEventParams{}, other.AsAdmin())
		require.NoError(t, err)
		wantError(t, res, res.Body, http.StatusNotFound, client.ErrorCodeNotFound)
	})
	t.Run("NeedsEventsRead", func(t *testing.T) {
		without := pe.keyWith(client.ScopePaymentsRead)
		res := eventsPage(t, e, client.ListEventsParams{}, without)
		wantError(t, res, res.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		one, err := e.C.GetEventWithResponse(e.Ctx, mine[0].Id, &client.GetEventParams{}, without)
		require.NoError(t, err)
		wantError(t, one, one.Body, http.StatusForbidden, client.ErrorCodeForbidden)
		with := pe.keyWith(client.ScopeEventsRead)
		require.Equal(t, http.StatusOK, eventsPage(t, e, client.ListEventsParams{}, with).StatusCode())
	})
}

// TestEventsPollingMissesNothing commits two events out of id order: the
// first recorded (the smaller ULID) commits last. A poller that kept the
// cursor of the second would skip the first if the listing paged by id;
// the listing holds both back until the older transaction ends and then
// serves them once each.
func TestEventsPollingMissesNothing(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	admin := e.AsAdmin()
	first := revokeNewKey(t, e)
	_, cursor := awaitFrom(t, e, admin, nil, 1)
	require.NotNil(t, cursor)

	// A transaction records an event (id taken now) and stays open...
	early := ids.New(ids.Event)
	tx, err := e.S.Pool.Begin(e.Ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(e.Ctx, `INSERT INTO events (id, merchant_id, integration_id, type, api_version, data, created_at)
		VALUES ($1, $2, $3, 'api_key.revoked', '2026-06-01', $4, $5)`,
		early, e.Tenant.MerchantID, e.Tenant.IntegrationID, `{"id":"`+first+`","late":true}`, e.S.Clock.Now())
	require.NoError(t, err)
	// ...while a later one commits.
	revokeNewKey(t, e)
	var lateID string
	require.NoError(t, e.S.Pool.QueryRow(e.Ctx, `SELECT id FROM events ORDER BY id DESC LIMIT 1`).Scan(&lateID))
	require.Less(t, early, lateID, "the open transaction's event has the smaller id")

	// Nothing is served past the open transaction.
	for range 3 {
		more, next := pollEvents(t, e, client.ListEventsParams{Cursor: cursor}, admin)
		require.Empty(t, more, "held back while an older transaction runs")
		require.Equal(t, cursor, next)
	}
	require.NoError(t, tx.Commit(e.Ctx))

	// Both now, in commit-safe order, once.
	more, cursor := awaitFrom(t, e, admin, cursor, 2)
	require.Equal(t, early, more[0].Id)
	require.Equal(t, lateID, more[1].Id)
	again, _ := pollEvents(t, e, client.ListEventsParams{Cursor: cursor}, admin)
	require.Empty(t, again, "nothing twice")
}

// TestEventTypesMatchTheDocument: the one list of types in internal/events
// is the document's EventType enum.
func TestEventTypesMatchTheDocument(t *testing.T) {
	t.Parallel()
	doc, err := app.LoadSpec()
	require.NoError(t, err)
	var enum []string
	for _, v := range doc.Doc.Components.Schemas["EventType"].Value.Enum {
		enum = append(enum, v.(string))
	}
	var types []string
	for _, ty := range events.Types {
		types = append(types, string(ty))
	}
	require.Equal(t, enum, types)
}

// revokeNewKey creates a key and revokes it, and returns its id.
func revokeNewKey(t *testing.T, e *moneytest.Env) string {
	t.Helper()
	created, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateApiKeyInput{Meta: moneytest.Meta(), Data: client.CreateApiKeyInputData{Name: "to revoke", Scopes: []client.Scope{client.ScopeCustomersRead}}}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	id := created.JSON200.Data.Key.Id
	res, err := e.C.RevokeApiKeyWithResponse(e.Ctx, id, &client.RevokeApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.RevokeApiKeyInput{Meta: moneytest.Meta()}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	return id
}

// TestEventsGrantLapsingOnAClose: promo a closed payment gives back to a
// grant that expired meanwhile expires the consumed grant: grant.expired.
func TestEventsGrantLapsingOnAClose(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	w := pe.wallet(0, grantSpec{amount: 500, ttl: 2 * time.Hour})
	p := pe.authorizeManual(w.ID, 500)
	e.S.Clock.Advance(3 * time.Hour)
	require.Equal(t, http.StatusOK, pe.capture(p.Id, client.CapturePaymentInputData{Action: client.CaptureActionClose}).StatusCode())
	got := awaitEvents(t, e, e.AsAdmin(), 4)
	require.Equal(t, []client.EventType{client.EventTypeGrantIssued, client.EventTypePaymentAuthorized,
		client.EventTypeGrantExpired, client.EventTypePaymentClosed}, typesOf(got))
	require.Equal(t, "expired", got[2].Data["state"])
	require.Equal(t, got[0].Data["id"], got[2].Data["id"])
}

// TestEventsOfKeysAndLateCaptures: a regeneration revokes the old key
// (api_key.revoked); revoking a revoked key changes nothing and records
// nothing; a capture that finds the authorization expired expires it
// (payment.expired) although the call is refused.
func TestEventsOfKeysAndLateCaptures(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	admin := e.AsAdmin()

	revoked := revokeNewKey(t, e)
	again, err := e.C.RevokeApiKeyWithResponse(e.Ctx, revoked, &client.RevokeApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.RevokeApiKeyInput{Meta: moneytest.Meta()}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, again.StatusCode(), "body: %s", again.Body)
	created, err := e.C.CreateApiKeyWithResponse(e.Ctx, &client.CreateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateApiKeyInput{Meta: moneytest.Meta(), Data: client.CreateApiKeyInputData{Name: "to regenerate", Scopes: []client.Scope{client.ScopeCustomersRead}}}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	regenerated, err := e.C.RegenerateApiKeyWithResponse(e.Ctx, created.JSON200.Data.Key.Id, &client.RegenerateApiKeyParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.RegenerateApiKeyInput{Meta: moneytest.Meta()}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, regenerated.StatusCode(), "body: %s", regenerated.Body)

	late := pe.authorizeManual(pe.wallet(3000).ID, 1000)
	e.S.Clock.Advance(payments.AuthorizationTTL + time.Minute)
	res := pe.capture(late.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture})
	wantError(t, res, res.Body, http.StatusConflict, client.ErrorCodePaymentStateConflict)

	got := awaitEvents(t, e, admin, 5)
	require.Equal(t, []client.EventType{client.EventTypeApiKeyRevoked, client.EventTypeApiKeyRevoked,
		client.EventTypeTopupConfirmed, client.EventTypePaymentAuthorized, client.EventTypePaymentExpired}, typesOf(got))
	require.Equal(t, revoked, got[0].Data["id"])
	require.Equal(t, created.JSON200.Data.Key.Id, got[1].Data["id"])
	require.Equal(t, late.Id, got[4].Data["id"])
	require.Equal(t, "expired", got[4].Data["status"])
}

// TestEventsOfRefunds: each refund records payment.refunded, whose data is
// the payment as GET /payments/{id} shows it after that refund.
func TestEventsOfRefunds(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	t.Cleanup(func() { moneytest.CheckLedger(t, e.S.Pool) })
	admin := e.AsAdmin()

	p := pe.payAuto(pe.wallet(3000).ID, 1000)
	first := refunded(t, pe.refund(p.Id, 300, ""), 300, 0, 0)
	second := refunded(t, pe.refund(p.Id, 200, ""), 200, 0, 0)

	got := awaitEvents(t, e, admin, 4)
	require.Equal(t, []client.EventType{client.EventTypeTopupConfirmed, client.EventTypePaymentCaptured,
		client.EventTypePaymentRefunded, client.EventTypePaymentRefunded}, typesOf(got))
	for i, want := range []struct {
		refunded int64
		refunds  []string
	}{{300, []string{first.Id}}, {500, []string{first.Id, second.Id}}} {
		body, err := json.Marshal(got[2+i].Data)
		require.NoError(t, err)
		var asPayment client.Payment
		require.NoError(t, json.Unmarshal(body, &asPayment))
		require.Equal(t, p.Id, asPayment.Id)
		require.Equal(t, client.PaymentStatusCaptured, asPayment.Status)
		require.NotNil(t, asPayment.RefundedMinor)
		require.EqualValues(t, want.refunded, *asPayment.RefundedMinor)
		require.NotNil(t, asPayment.Refunds)
		var refundIDs []string
		for _, r := range *asPayment.Refunds {
			refundIDs = append(refundIDs, r.Id)
		}
		require.Equal(t, want.refunds, refundIDs)
	}
	body, err := json.Marshal(got[3].Data)
	require.NoError(t, err)
	var last client.Payment
	require.NoError(t, json.Unmarshal(body, &last))
	require.Equal(t, pe.payment(p.Id), last, "the last event's payment is what GET shows")
}

// TestEventsExpireAfterRetention: the retention sweep deletes events older
// than events.Retention, and only those.
func TestEventsExpireAfterRetention(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	admin := e.AsAdmin()
	purge := &events.PurgeWorker{Pool: e.S.Pool, Now: e.S.Clock.Now}

	pe.payAuto(pe.wallet(3000).ID, 1000)
	require.Len(t, awaitEvents(t, e, admin, 2), 2)
	e.S.Clock.Advance(events.Retention - time.Hour)
	require.NoError(t, purge.Work(e.Ctx, nil))
	require.Len(t, awaitEvents(t, e, admin, 2), 2, "younger than the retention: kept")

	e.S.Clock.Advance(2 * time.Hour)
	fresh := pe.payAuto(pe.wallet(3000).ID, 500)
	require.NoError(t, purge.Work(e.Ctx, nil))
	got := awaitEvents(t, e, admin, 2)
	require.Equal(t, []client.EventType{client.EventTypeTopupConfirmed, client.EventTypePaymentCaptured}, typesOf(got))
	require.Equal(t, fresh.Id, got[1].Data["id"], "only the events past the retention are gone")

	var onDelete string
	require.NoError(t, e.S.Pool.QueryRow(e.Ctx,
		`SELECT confdeltype FROM pg_constraint WHERE conname = 'webhook_deliveries_event_id_fkey'`).Scan(&onDelete))
	require.Equal(t, "c", onDelete, "an event's delivery attempts go with it")
}

// TestEventsOfASkuSale: a SKU sale is a top-up, so it records
// topup.confirmed (after its bonus's grant.issued, in the same transaction)
// like POST /topup/confirm.
func TestEventsOfASkuSale(t *testing.T) {
	t.Parallel()
	e := moneytest.Start(t)
	pe := &payEnv{Env: e, t: t}
	admin := e.AsAdmin()
	w := pe.wallet(0)
	e.UpsertSku(t, client.UpsertSkuInputData{SkuId: "gift-25", Currency: "EUR", FaceValueMinor: 2500, BonusMinor: 250, BonusExpiresInDays: 90, Active: true})
	res, err := e.C.CreateSkuTopupWithResponse(e.Ctx, "gift-25", &client.CreateSkuTopupParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.CreateSkuTopupInput{Meta: moneytest.Meta(), Data: client.CreateSkuTopupInputData{WalletId: w.ID, Quantity: 2}}, admin)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	got := awaitEvents(t, e, admin, 2) // pe.wallet(0) funds nothing
	require.Equal(t, []client.EventType{client.EventTypeGrantIssued, client.EventTypeTopupConfirmed}, typesOf(got))
	body, err := json.Marshal(got[1].Data)
	require.NoError(t, err)
	var asTopup client.TopupResult
	require.NoError(t, json.Unmarshal(body, &asTopup))
	require.Equal(t, res.JSON200.Data, asTopup, "the event's data is the sale's response")
}
