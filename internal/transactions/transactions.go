// Package transactions is the read side of the ledger for the API: an
// integration's transactions, filtered and keyset-paginated, and one
// transaction with its entries.
//
// API for other packages (each takes the caller's queries):
//
//	ListRecentByCustomer(ctx, q, merchantID, customerID, n) ([]ledger.Transaction, error)
//	TopupStatsOf(ctx, q, merchantID, walletID) (TopupStats, error)
//	Service.List, Service.Get  the HTTP operations
package transactions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

// ErrNotFound: no such transaction in the integration.
var ErrNotFound = errors.New("no such transaction")

// ErrInvalidRange: created_after is not before created_before.
var ErrInvalidRange error = invalidRange{}

type invalidRange struct{}

func (invalidRange) Error() string { return "created_after must be before created_before." }

// FieldCreatedAfter is the lower bound of a Query (fielderr.Field).
const FieldCreatedAfter fielderr.Field = "transactions.Query.CreatedAfter"

// InputField is the lower bound of the range.
func (invalidRange) InputField() fielderr.Input { return fielderr.Input{Field: FieldCreatedAfter} }

// Service reads transactions.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns the service over pool.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Query asks for a page of an integration's transactions. Empty filters
// match everything; CreatedAfter is inclusive, CreatedBefore exclusive.
type Query struct {
	MerchantID    string
	IntegrationID string
	CustomerID    string
	WalletID      string
	Type          ledger.Type
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	Limit         int
	Cursor        string
}

// listing binds a cursor to the scope and every filter of its query.
func (lq Query) listing() string {
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return strconv.FormatInt(t.UnixMicro(), 10)
	}
	return keyset.Listing("transactions", lq.MerchantID, lq.IntegrationID, lq.CustomerID, lq.WalletID,
		string(lq.Type), stamp(lq.CreatedAfter), stamp(lq.CreatedBefore))
}

// List reads a page of the integration's transactions, newest first, keyset
// on (created_at, id): rows booked while a client pages appear on no page
// twice and never shift a page.
func (s *Service) List(ctx context.Context, lq Query) (keyset.Page[ledger.Transaction], error) {
	if lq.CreatedAfter != nil && lq.CreatedBefore != nil && !lq.CreatedAfter.Before(*lq.CreatedBefore) {
		return keyset.Page[ledger.Transaction]{}, ErrInvalidRange
	}
	params := db.TransactionListParams{
		MerchantID: lq.MerchantID, IntegrationID: lq.IntegrationID,
		CustomerID: dbx.NullString(lq.CustomerID), WalletID: dbx.NullString(lq.WalletID), Type: dbx.NullString(string(lq.Type)),
		CreatedAfter: lq.CreatedAfter, CreatedBefore: lq.CreatedBefore,
		PageSize: int32(lq.Limit + 1),
	}
	if lq.Cursor != "" {
		pos, err := keyset.Decode(lq.listing(), lq.Cursor)
		if err != nil {
			return keyset.Page[ledger.Transaction]{}, keyset.ErrInvalid
		}
		params.BeforeCreatedAt, params.BeforeID = &pos.At, &pos.Key
	}
	rows, err := dbx.Q(ctx, s.pool).TransactionList(ctx, params)
	if err != nil {
		return keyset.Page[ledger.Transaction]{}, fmt.Errorf("listing transactions: %w", err)
	}
	page := keyset.Page[ledger.Transaction]{Items: make([]ledger.Transaction, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, ledger.FromRow(r))
	}
	if len(page.Items) > lq.Limit {
		page.Items = page.Items[:lq.Limit]
		last := page.Items[len(page.Items)-1]
		page.NextCursor = keyset.Encode(lq.listing(), keyset.Position{At: last.CreatedAt, Key: last.ID})
	}
	return page, nil
}

// Get reads one of the integration's transactions with its entries.
func (s *Service) Get(ctx context.Context, merchantID, integrationID, id string) (ledger.Transaction, error) {
	q := dbx.Q(ctx, s.pool)
	row, err := q.TransactionGet(ctx, db.TransactionGetParams{MerchantID: merchantID, IntegrationID: integrationID, ID: id})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return ledger.Transaction{}, ErrNotFound
		}
		return ledger.Transaction{}, fmt.Errorf("reading transaction %s: %w", id, err)
	}
	t := ledger.FromRow(row)
	if t.Entries, err = ledger.Entries(ctx, q, merchantID, id); err != nil {
		return ledger.Transaction{}, err
	}
	return t, nil
}

// ListRecentByCustomer reads a customer's latest n transactions, of every
// integration of the merchant, newest first.
func ListRecentByCustomer(ctx context.Context, q *db.Queries, merchantID, customerID string, n int) ([]ledger.Transaction, error) {
	rows, err := q.TransactionListByCustomer(ctx, db.TransactionListByCustomerParams{MerchantID: merchantID, CustomerID: customerID, PageSize: int32(n)})
	if err != nil {
		return nil, fmt.Errorf("listing transactions of %s: %w", customerID, err)
	}
	out := make([]ledger.Transaction, len(rows))
	for i, r := range rows {
		out[i] = ledger.FromRow(r)
	}
	return out, nil
}

// TopupStats are a wallet's lifetime top-ups (confirmed and SKU).
type TopupStats struct {
	Count      int64
	TotalMinor int64
}

// TopupStatsOf reads a wallet's lifetime top-ups.
func TopupStatsOf(ctx context.Context, q *db.Queries, merchantID, walletID string) (TopupStats, error) {
	r, err := q.TransactionTopupStats(ctx, db.TransactionTopupStatsParams{MerchantID: merchantID, WalletID: walletID})
	if err != nil {
		return TopupStats{}, fmt.Errorf("reading top-up stats of %s: %w", walletID, err)
	}
	return TopupStats{Count: r.Topups, TotalMinor: r.TotalMinor}, nil
}
