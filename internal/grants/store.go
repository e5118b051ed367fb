package grants

import (
	"context"
	"errors"
	"fmt"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

func get(ctx context.Context, q *db.Queries, merchantID, id string) (Grant, error) {
	row, err := q.GrantGet(ctx, db.GrantGetParams{MerchantID: merchantID, ID: id})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Grant{}, ErrNotFound
		}
		return Grant{}, fmt.Errorf("reading grant %s: %w", id, err)
	}
	return fromRow(row), nil
}

// ListLive reads a wallet's locked and available grants in spending order:
// earliest expiry first, then oldest.
func ListLive(ctx context.Context, q *db.Queries, merchantID, walletID string) ([]Grant, error) {
	rows, err := q.GrantListLive(ctx, db.GrantListLiveParams{MerchantID: merchantID, WalletID: walletID})
	if err != nil {
		return nil, fmt.Errorf("listing live grants of %s: %w", walletID, err)
	}
	return fromRows(rows), nil
}

// move is a transition of grants to a state, with the history it records.
type move struct {
	MerchantID string
	GrantIDs   []string
	To         State
	// KeepRemaining is false when the grant dies: its remaining promo
	// leaves with the transaction TransactionID.
	KeepRemaining bool
	// Reason, and the optional Detail and Note, go into the history.
	Reason        string
	TransactionID string
	Detail        string
	Note          string
}

// transition moves grants to a state, recording history. Only grants in a
// state the machine leaves for m.To are moved; fewer rows than ids is an
// error (the caller read a state that changed).
func transition(ctx context.Context, q *db.Queries, m move) ([]Grant, error) {
	to, ids := m.To, m.GrantIDs
	from := []string{string(StateLocked), string(StateAvailable)} // expired, clawed_back
	if to == StateAvailable {
		from = []string{string(StateLocked)} // a release; consumed -> available is Restore
	}
	rows, err := q.GrantTransition(ctx, db.GrantTransitionParams{
		ToState: string(to), KeepRemaining: m.KeepRemaining, MerchantID: m.MerchantID, Ids: ids, FromStates: from,
		Reason: m.Reason, TransactionID: dbx.NullString(m.TransactionID), Detail: dbx.NullString(m.Detail), Note: dbx.NullString(m.Note),
	})
	if err != nil {
		return nil, fmt.Errorf("moving grants to %s: %w", to, err)
	}
	if len(rows) != len(ids) {
		return nil, fmt.Errorf("moving grants to %s: %d of %d found", to, len(rows), len(ids))
	}
	out := make([]Grant, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// withHistory fills the history of grants (one query for all of them).
func withHistory(ctx context.Context, q *db.Queries, merchantID string, gs []Grant) ([]Grant, error) {
	if len(gs) == 0 {
		return gs, nil
	}
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	rows, err := q.GrantEventsOf(ctx, db.GrantEventsOfParams{MerchantID: merchantID, GrantIds: ids})
	if err != nil {
		return nil, fmt.Errorf("reading grant history: %w", err)
	}
	byGrant := make(map[string][]Event, len(gs))
	for _, r := range rows {
		byGrant[r.GrantID] = append(byGrant[r.GrantID], Event{
			From: State(dbx.String(r.FromState)), To: State(r.ToState), Reason: r.Reason, Amount: r.AmountMinor,
			TransactionID: dbx.String(r.TransactionID), Detail: dbx.String(r.Detail), Note: dbx.String(r.Note), At: r.At.UTC(),
		})
	}
	for i := range gs {
		gs[i].History = byGrant[gs[i].ID]
		if gs[i].History == nil {
			gs[i].History = []Event{}
		}
	}
	return gs, nil
}

func fromRows(rows []db.Grant) []Grant {
	out := make([]Grant, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out
}

func fromRow(r db.Grant) Grant {
	return Grant{
		ID:            r.ID,
		MerchantID:    r.MerchantID,
		IntegrationID: r.IntegrationID,
		WalletID:      r.WalletID,
		CustomerID:    r.CustomerID,
		Source:        Source(r.Source),
		SourceRef:     dbx.String(r.SourceRef),
		Currency:      r.Currency,
		Original:      r.OriginalMinor,
		Remaining:     r.RemainingMinor,
		State:         State(r.State),
		ExpiresAt:     r.ExpiresAt.UTC(),
		CreatedAt:     r.CreatedAt.UTC(),
	}
}
