package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

// ErrNotFound: no such event for the caller.
var ErrNotFound = errors.New("no such event")

// ErrInvalidRange: created_after is not before created_before.
var ErrInvalidRange error = invalidRange{}

type invalidRange struct{}

func (invalidRange) Error() string { return "created_after must be before created_before." }

// FieldCreatedAfter is the lower bound of a Query (fielderr.Field).
const FieldCreatedAfter fielderr.Field = "events.Query.CreatedAfter"

// InputField is the lower bound of the range.
func (invalidRange) InputField() fielderr.Input { return fielderr.Input{Field: FieldCreatedAfter} }

// Recorded is an event as it was stored.
type Recorded struct {
	ID         string
	Type       Type
	APIVersion string
	// Data is the JSON object of the snapshot.
	Data      []byte
	CreatedAt time.Time
}

// Service reads the event log.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns the service over pool.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Query asks for a page of the events an integration sees, oldest first.
// Empty filters match everything; CreatedAfter is inclusive, CreatedBefore
// exclusive.
type Query struct {
	MerchantID    string
	IntegrationID string
	Types         []Type
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	Limit         int
	Cursor        string
}

// Page is a page of events. Unlike the other listings, NextCursor is set
// whenever a position is known, on the last page too: a poller keeps it
// and asks again later. More says whether events follow already.
type Page struct {
	keyset.Page[Recorded]
	More bool
}

func (lq Query) listing() string {
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return strconv.FormatInt(t.UnixMicro(), 10)
	}
	types := make([]string, len(lq.Types))
	for i, t := range lq.Types {
		types[i] = string(t)
	}
	slices.Sort(types)
	types = slices.Compact(types)
	return keyset.Listing("events", lq.MerchantID, lq.IntegrationID, strings.Join(types, ","),
		stamp(lq.CreatedAfter), stamp(lq.CreatedBefore))
}

// position is a place in the order (txid, id), carried by a keyset cursor
// as its key "txid.id".
func position(txid int64, id string, at time.Time) keyset.Position {
	return keyset.Position{At: at, Key: strconv.FormatInt(txid, 10) + "." + id}
}

func fromPosition(p keyset.Position) (int64, string, error) {
	tx, id, ok := strings.Cut(p.Key, ".")
	n, err := strconv.ParseInt(tx, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", keyset.ErrInvalid
	}
	return n, id, nil
}

// List reads the next page of events after the cursor (from the oldest
// without one), in the order (transaction id, event id). Only events whose
// transaction is older than every transaction still running are served:
// a transaction that began earlier but commits later cannot add an event
// behind a cursor already given out, so polling with the last NextCursor
// misses nothing and repeats nothing. The price is that an event waits for
// the transactions older than its own to end (milliseconds, normally).
func (s *Service) List(ctx context.Context, lq Query) (Page, error) {
	if lq.CreatedAfter != nil && lq.CreatedBefore != nil && !lq.CreatedAfter.Before(*lq.CreatedBefore) {
		return Page{}, ErrInvalidRange
	}
	listing := lq.listing()
	params := db.EventListParams{
		MerchantID: lq.MerchantID, IntegrationID: &lq.IntegrationID,
		CreatedAfter: lq.CreatedAfter, CreatedBefore: lq.CreatedBefore,
		PageSize: int32(lq.Limit + 1),
	}
	if len(lq.Types) > 0 {
		params.Types = make([]string, len(lq.Types))
		for i, t := range lq.Types {
			params.Types[i] = string(t)
		}
	}
	page := Page{Page: keyset.Page[Recorded]{Items: []Recorded{}, NextCursor: lq.Cursor}}
	if lq.Cursor != "" {
		pos, err := keyset.Decode(listing, lq.Cursor)
		if err != nil {
			return Page{}, keyset.ErrInvalid
		}
		txid, id, err := fromPosition(pos)
		if err != nil {
			return Page{}, err
		}
		params.AfterTxid, params.AfterID = &txid, &id
	}
	q := dbx.Q(ctx, s.pool)
	horizon, err := q.EventHorizon(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("reading the events horizon: %w", err)
	}
	params.Horizon = horizon
	rows, err := q.EventList(ctx, params)
	if err != nil {
		return Page{}, fmt.Errorf("listing events: %w", err)
	}
	if len(rows) > lq.Limit {
		rows, page.More = rows[:lq.Limit], true
	}
	for _, r := range rows {
		page.Items = append(page.Items, Recorded{ID: r.ID, Type: Type(r.Type), APIVersion: r.ApiVersion, Data: r.Data, CreatedAt: r.CreatedAt.UTC()})
	}
	if n := len(rows); n > 0 {
		last := rows[n-1]
		page.NextCursor = keyset.Encode(listing, position(last.Txid, last.ID, last.CreatedAt))
	}
	return page, nil
}

// Get reads one event the integration sees.
func (s *Service) Get(ctx context.Context, merchantID, integrationID, id string) (Recorded, error) {
	r, err := dbx.Q(ctx, s.pool).EventGet(ctx, db.EventGetParams{MerchantID: merchantID, IntegrationID: &integrationID, ID: id})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Recorded{}, ErrNotFound
		}
		return Recorded{}, fmt.Errorf("reading event %s: %w", id, err)
	}
	return Recorded{ID: r.ID, Type: Type(r.Type), APIVersion: r.ApiVersion, Data: r.Data, CreatedAt: r.CreatedAt.UTC()}, nil
}
