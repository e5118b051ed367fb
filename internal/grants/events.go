package grants

import (
	"context"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
)

// recordEvents records what a change did to grants, in its transaction.
// Grants are merchant-wide (every integration of the merchant lists them),
// so are their events.
func recordEvents(ctx context.Context, q *db.Queries, t events.Type, gs []Grant, now time.Time) error {
	for _, g := range gs {
		if err := events.Record(ctx, q, events.Event{Type: t, MerchantID: g.MerchantID, Object: g, At: now}); err != nil {
			return err
		}
	}
	return nil
}
