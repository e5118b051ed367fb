// Package events is the event log: every state change an integrator cares
// about, recorded in the transaction that makes it (Record), and read back
// by GET /events in an order that lets a poller miss nothing and see
// nothing twice.
//
// Events does not know the domains: a domain passes its own object in
// (Event.Object), and the renderer installed at wiring time (UseRenderer,
// by internal/app with httpapi's) turns it into the JSON the API returns
// for that object, in the API version the renderer names. The snapshot is
// taken when the event is recorded, so it shows the object as the change
// left it, in the shape of the version stamped on the event.
//
// API for other packages:
//
//	Record(ctx, q, Event) error  in the transaction of the change
//	UseRenderer(Renderer)        at wiring time
//	Service.List, Service.Get    the HTTP operations
package events

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// Type is an event's type, "<object>.<what happened>".
type Type string

// The event types: the one list (the document's EventType enum mirrors it;
// a test holds them equal).
const (
	PaymentAuthorized  Type = "payment.authorized"
	PaymentCaptured    Type = "payment.captured"
	PaymentClosed      Type = "payment.closed"
	PaymentExpired     Type = "payment.expired"
	PaymentRefunded    Type = "payment.refunded"
	TopupConfirmed     Type = "topup.confirmed"
	GrantIssued        Type = "grant.issued"
	GrantReleased      Type = "grant.released"
	GrantExpired       Type = "grant.expired"
	GrantClawedBack    Type = "grant.clawed_back"
	EnrollmentVerified Type = "enrollment.verified"
	APIKeyRevoked      Type = "api_key.revoked"
)

// Types lists every type, in the document's order.
var Types = []Type{
	PaymentAuthorized, PaymentCaptured, PaymentClosed, PaymentExpired, PaymentRefunded,
	TopupConfirmed,
	GrantIssued, GrantReleased, GrantExpired, GrantClawedBack,
	EnrollmentVerified,
	APIKeyRevoked,
}

// Event is a state change to record.
type Event struct {
	Type       Type
	MerchantID string
	// IntegrationID is the integration that owns the object when objects
	// of its kind are integration-scoped (payments, top-ups, API keys): only
	// it sees the event. Empty: every integration of the merchant does
	// (grants, wallets).
	IntegrationID string
	// Object is the domain's object as the change left it; the renderer
	// makes the event's data of it.
	Object any
	// At is the time of the change, from the service clock.
	At time.Time
}

// Renderer turns a domain object into the JSON object the API returns for
// it, and names the API version of that shape.
type Renderer func(t Type, object any) (apiVersion string, data []byte, err error)

var renderer atomic.Pointer[Renderer]

// UseRenderer installs the renderer every Record uses. The HTTP layer owns
// the API's shapes, so internal/app installs httpapi's when it wires the
// service; installing it again replaces it.
func UseRenderer(r Renderer) { renderer.Store(&r) }

// ErrNoRenderer: Record was called before UseRenderer.
var ErrNoRenderer = errors.New("events: no renderer installed (app.New installs it)")

// Record writes the event in the caller's transaction: it commits, or
// rolls back, with the change it records.
func Record(ctx context.Context, q *db.Queries, e Event) error {
	r := renderer.Load()
	if r == nil {
		return ErrNoRenderer
	}
	version, data, err := (*r)(e.Type, e.Object)
	if err != nil {
		return fmt.Errorf("rendering %s event: %w", e.Type, err)
	}
	if err := q.EventInsert(ctx, db.EventInsertParams{
		ID: ids.New(ids.Event), MerchantID: e.MerchantID, IntegrationID: dbx.NullString(e.IntegrationID),
		Type: string(e.Type), ApiVersion: version, Data: data, CreatedAt: e.At.UTC(),
	}); err != nil {
		return fmt.Errorf("recording %s event: %w", e.Type, err)
	}
	return nil
}
