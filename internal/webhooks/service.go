package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

// RotationOverlap is how long the previous secret keeps signing beside the
// new one after a rotation.
const RotationOverlap = 24 * time.Hour

// ErrNotFound: no such endpoint in the integration.
var ErrNotFound = errors.New("no such webhook endpoint")

// ErrInvalid: an input is not acceptable; a *fielderr.Error names it.
var ErrInvalid = errors.New("invalid webhook endpoint")

// FieldURL is the endpoint's URL (fielderr.Field).
const FieldURL fielderr.Field = "webhooks.NewEndpoint.URL"

// Sealer keeps secrets sealed at rest with the KEK (auth.Service).
type Sealer interface {
	Seal(aad string, plaintext []byte) ([]byte, error)
	Open(aad string, sealed []byte) ([]byte, error)
}

// Status is an endpoint's state: enabled endpoints receive events; one
// failing for RetryWindow is disabled.
type Status string

// The states an API caller sees (deleted endpoints are gone).
const (
	StatusEnabled  Status = "enabled"
	StatusDisabled Status = "disabled"
)

// Endpoint is a registered receiver of events.
type Endpoint struct {
	ID            string
	MerchantID    string
	IntegrationID string
	URL           string
	EventTypes    []events.Type
	Description   string
	Status        Status
	FailingSince  *time.Time
	DisabledAt    *time.Time
	// PreviousSecretExpiresAt: after a rotation, until when the previous
	// secret signs beside the new one.
	PreviousSecretExpiresAt *time.Time
	CreatedAt               time.Time
}

// WithSecret is an endpoint with its signing secret, shown once.
type WithSecret struct {
	Endpoint
	Secret string
}

// NewEndpoint registers an endpoint for the caller's integration.
type NewEndpoint struct {
	MerchantID    string
	IntegrationID string
	URL           string
	EventTypes    []events.Type
	Description   string
}

// Service runs the endpoint operations.
type Service struct {
	pool   *pgxpool.Pool
	sealer Sealer
	guard  Guard
	now    func() time.Time
}

// NewService returns the service; guard decides which URLs are allowed.
func NewService(pool *pgxpool.Pool, sealer Sealer, guard Guard, now func() time.Time) *Service {
	return &Service{pool: pool, sealer: sealer, guard: guard, now: now}
}

// Create registers an endpoint and returns it with its new secret. The URL
// is checked by the guard (CheckURL): a refusal names the URL.
func (s *Service) Create(ctx context.Context, n NewEndpoint) (WithSecret, error) {
	if err := s.guard.CheckURL(ctx, n.URL); err != nil {
		return WithSecret{}, fielderr.New(ErrInvalid, FieldURL, "%s", strings.TrimPrefix(err.Error(), ErrURL.Error()+": "))
	}
	secret, err := NewSecret()
	if err != nil {
		return WithSecret{}, err
	}
	id := ids.New(ids.WebhookEndpoint)
	sealed, err := s.sealer.Seal(id, []byte(secret))
	if err != nil {
		return WithSecret{}, fmt.Errorf("sealing the endpoint's secret: %w", err)
	}
	types := make([]string, len(n.EventTypes))
	for i, t := range n.EventTypes {
		types[i] = string(t)
	}
	row, err := dbx.Q(ctx, s.pool).WebhookEndpointInsert(ctx, db.WebhookEndpointInsertParams{
		ID: id, MerchantID: n.MerchantID, IntegrationID: n.IntegrationID, Url: n.URL, EventTypes: types,
		Description: dbx.NullString(n.Description), SecretSealed: sealed, CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return WithSecret{}, fmt.Errorf("registering a webhook endpoint: %w", err)
	}
	return WithSecret{Endpoint: fromRow(row), Secret: secret}, nil
}

// List reads a page of the integration's endpoints, newest first.
func (s *Service) List(ctx context.Context, merchantID, integrationID string, limit int, cursor string) (keyset.Page[Endpoint], error) {
	listing := keyset.Listing("webhook_endpoints", merchantID, integrationID)
	params := db.WebhookEndpointListParams{MerchantID: merchantID, IntegrationID: integrationID, PageSize: int32(limit + 1)}
	if cursor != "" {
		pos, err := keyset.Decode(listing, cursor)
		if err != nil {
			return keyset.Page[Endpoint]{}, keyset.ErrInvalid
		}
		params.BeforeCreatedAt, params.BeforeID = &pos.At, &pos.Key
	}
	rows, err := dbx.Q(ctx, s.pool).WebhookEndpointList(ctx, params)
	if err != nil {
		return keyset.Page[Endpoint]{}, fmt.Errorf("listing webhook endpoints: %w", err)
	}
	page := keyset.Page[Endpoint]{Items: make([]Endpoint, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, fromRow(r))
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = keyset.Encode(listing, keyset.Position{At: last.CreatedAt, Key: last.ID})
	}
	return page, nil
}

// Delete removes an endpoint: nothing more is delivered to it (jobs
// already queued find it deleted and stop).
func (s *Service) Delete(ctx context.Context, merchantID, integrationID, id string) (Endpoint, error) {
	row, err := dbx.Q(ctx, s.pool).WebhookEndpointDelete(ctx, db.WebhookEndpointDeleteParams{ID: id, MerchantID: merchantID, IntegrationID: integrationID})
	if err = notFound(err); err != nil {
		return Endpoint{}, err
	}
	return fromRow(row), nil
}

// RotateSecret gives the endpoint a new secret, returned once; the
// previous one keeps signing beside it for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, merchantID, integrationID, id string) (WithSecret, error) {
	secret, err := NewSecret()
	if err != nil {
		return WithSecret{}, err
	}
	sealed, err := s.sealer.Seal(id, []byte(secret))
	if err != nil {
		return WithSecret{}, fmt.Errorf("sealing the endpoint's secret: %w", err)
	}
	row, err := dbx.Q(ctx, s.pool).WebhookEndpointRotate(ctx, db.WebhookEndpointRotateParams{
		ID: id, MerchantID: merchantID, IntegrationID: integrationID, SecretSealed: sealed,
		PreviousExpiresAt: s.now().Add(RotationOverlap).UTC(),
	})
	if err = notFound(err); err != nil {
		return WithSecret{}, err
	}
	return WithSecret{Endpoint: fromRow(row), Secret: secret}, nil
}

// Delivery is one attempt to deliver an event to an endpoint.
type Delivery struct {
	ID          string
	EventID     string
	Attempt     int
	StatusCode  *int
	LatencyMS   int
	Succeeded   bool
	Error       string
	AttemptedAt time.Time
}

// Deliveries reads a page of an endpoint's attempts, newest first.
func (s *Service) Deliveries(ctx context.Context, merchantID, integrationID, id string, limit int, cursor string) (keyset.Page[Delivery], error) {
	q := dbx.Q(ctx, s.pool)
	if _, err := q.WebhookEndpointGet(ctx, db.WebhookEndpointGetParams{ID: id, MerchantID: merchantID, IntegrationID: integrationID}); notFound(err) != nil {
		return keyset.Page[Delivery]{}, notFound(err)
	}
	listing := keyset.Listing("webhook_deliveries", merchantID, integrationID, id)
	params := db.WebhookDeliveryListParams{MerchantID: merchantID, EndpointID: id, PageSize: int32(limit + 1)}
	if cursor != "" {
		pos, err := keyset.Decode(listing, cursor)
		if err != nil {
			return keyset.Page[Delivery]{}, keyset.ErrInvalid
		}
		params.BeforeAttemptedAt, params.BeforeID = &pos.At, &pos.Key
	}
	rows, err := q.WebhookDeliveryList(ctx, params)
	if err != nil {
		return keyset.Page[Delivery]{}, fmt.Errorf("listing deliveries: %w", err)
	}
	page := keyset.Page[Delivery]{Items: make([]Delivery, 0, len(rows))}
	for _, r := range rows {
		d := Delivery{ID: r.ID, EventID: r.EventID, Attempt: int(r.Attempt), LatencyMS: int(r.LatencyMs), Succeeded: r.Succeeded,
			Error: dbx.String(r.Error), AttemptedAt: r.AttemptedAt.UTC()}
		if r.StatusCode != nil {
			c := int(*r.StatusCode)
			d.StatusCode = &c
		}
		page.Items = append(page.Items, d)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = keyset.Encode(listing, keyset.Position{At: last.AttemptedAt, Key: last.ID})
	}
	return page, nil
}

func notFound(err error) error {
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

func fromRow(r db.WebhookEndpoint) Endpoint {
	types := make([]events.Type, len(r.EventTypes))
	for i, t := range r.EventTypes {
		types[i] = events.Type(t)
	}
	e := Endpoint{
		ID: r.ID, MerchantID: r.MerchantID, IntegrationID: r.IntegrationID, URL: r.Url, EventTypes: types,
		Description: dbx.String(r.Description), Status: Status(r.Status), FailingSince: dbx.UTC(r.FailingSince),
		DisabledAt: dbx.UTC(r.DisabledAt), CreatedAt: r.CreatedAt.UTC(),
	}
	if r.PreviousSecretExpiresAt != nil {
		e.PreviousSecretExpiresAt = dbx.UTC(r.PreviousSecretExpiresAt)
	}
	return e
}

// Reseal re-seals every endpoint's secrets with the sealer's current KEK,
// in one transaction: `feddi keys rotate-kek` runs it after re-sealing the
// signing keys, so FEDDI_KEK_PREVIOUS can be dropped afterwards. It
// returns how many endpoints it re-sealed.
func Reseal(ctx context.Context, pool *pgxpool.Pool, sealer Sealer) (int, error) {
	return dbx.InTxValue(ctx, pool, func(ctx context.Context, q *db.Queries) (int, error) {
		rows, err := q.WebhookEndpointSecretsForUpdate(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading webhook secrets: %w", err)
		}
		reseal := func(id string, sealed []byte) ([]byte, error) {
			plain, err := sealer.Open(id, sealed)
			if err != nil {
				return nil, fmt.Errorf("opening the secret of %s: %w", id, err)
			}
			return sealer.Seal(id, plain)
		}
		for _, r := range rows {
			p := db.WebhookEndpointResealParams{MerchantID: r.MerchantID, ID: r.ID}
			if p.SecretSealed, err = reseal(r.ID, r.SecretSealed); err != nil {
				return 0, err
			}
			if r.PreviousSecretSealed != nil {
				if p.PreviousSecretSealed, err = reseal(r.ID, r.PreviousSecretSealed); err != nil {
					return 0, err
				}
			}
			if err := q.WebhookEndpointReseal(ctx, p); err != nil {
				return 0, fmt.Errorf("re-sealing the secret of %s: %w", r.ID, err)
			}
		}
		return len(rows), nil
	})
}
