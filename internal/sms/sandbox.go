package sms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

var (
	// ErrSandboxOnly: the sandbox messages are read in the sandbox
	// environment only.
	ErrSandboxOnly = errors.New("sandbox messages are not available in live")
	// ErrInvalidCursor: the cursor was altered or belongs to another
	// listing.
	ErrInvalidCursor = errors.New("the cursor is not one of this listing")
)

// CursorError is ErrInvalidCursor about one query parameter.
type CursorError struct{}

func (CursorError) Error() string { return ErrInvalidCursor.Error() }

// Unwrap returns ErrInvalidCursor, for errors.Is.
func (CursorError) Unwrap() error { return ErrInvalidCursor }

// FieldListCursor is the cursor given to Inbox.List (fielderr.Field).
const FieldListCursor fielderr.Field = "sms.Inbox.List.cursor"

// InputField is the cursor.
func (CursorError) InputField() fielderr.Input { return fielderr.Input{Field: FieldListCursor} }

// SandboxMessage is a message the sandbox kept.
type SandboxMessage struct {
	ID          string
	Phone       string
	Kind        Kind
	Body        string
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

// Inbox reads back what the sandbox delivered.
type Inbox struct {
	pool *pgxpool.Pool
	env  config.Environment
}

// NewInbox returns the sandbox reader of the environment.
func NewInbox(pool *pgxpool.Pool, env config.Environment) *Inbox { return &Inbox{pool: pool, env: env} }

// Enabled says whether the environment keeps messages for read-back.
func (in *Inbox) Enabled() bool { return in.env == config.Sandbox }

// List returns the merchant's messages to phone, newest first: limit
// items after cursor (empty for the first page).
func (in *Inbox) List(ctx context.Context, merchantID, phone string, limit int, cursor string) (keyset.Page[SandboxMessage], error) {
	if !in.Enabled() {
		return keyset.Page[SandboxMessage]{}, ErrSandboxOnly
	}
	listing := keyset.Listing("sandbox_messages", merchantID, phone)
	params := db.SandboxMessageListParams{MerchantID: merchantID, Phone: phone, PageSize: int32(limit) + 1}
	if cursor != "" {
		pos, err := keyset.Decode(listing, cursor)
		if err != nil {
			return keyset.Page[SandboxMessage]{}, CursorError{}
		}
		params.BeforeCreatedAt, params.BeforeID = &pos.At, &pos.Key
	}
	rows, err := dbx.Q(ctx, in.pool).SandboxMessageList(ctx, params)
	if err != nil {
		return keyset.Page[SandboxMessage]{}, fmt.Errorf("listing sandbox messages: %w", err)
	}
	page := keyset.Page[SandboxMessage]{Items: make([]SandboxMessage, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			page.NextCursor = keyset.Encode(listing, keyset.Position{At: last.CreatedAt, Key: last.ID})
			break
		}
		delivered := r.DeliveredAt
		page.Items = append(page.Items, SandboxMessage{
			ID: r.ID, Phone: r.Phone, Kind: Kind(r.Kind), Body: r.Body, CreatedAt: r.CreatedAt, DeliveredAt: &delivered,
		})
	}
	return page, nil
}
