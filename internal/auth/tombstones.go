package auth

import (
	"context"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// DeletedKey is what remains of a deleted API key: enough to say, years
// later, whose key an id in an audit trail was and who removed it, and no
// secret (neither hash nor prefix). Listings and authentication never see
// it: the key itself is gone from api_keys.
type DeletedKey struct {
	ID             string
	MerchantID     string
	IntegrationID  string
	Name           string
	Role           Role
	Scopes         []string
	CreatedAt      time.Time
	RevokedAt      *time.Time
	ReplacesKeyID  string
	DeletedAt      time.Time
	DeletedByKeyID string
}

// DeletedKey returns the tombstone of a key of the caller's integration.
func (s *Service) DeletedKey(ctx context.Context, caller Principal, keyID string) (DeletedKey, error) {
	row, err := dbx.Q(ctx, s.pool).ApiKeyTombstoneGet(ctx, db.ApiKeyTombstoneGetParams{ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID})
	if err != nil {
		return DeletedKey{}, keyError(keyID, err)
	}
	return DeletedKey{
		ID:             row.ID,
		MerchantID:     row.MerchantID,
		IntegrationID:  row.IntegrationID,
		Name:           row.Name,
		Role:           Role(row.Role),
		Scopes:         row.Scopes,
		CreatedAt:      row.CreatedAt.UTC(),
		RevokedAt:      dbx.UTC(row.RevokedAt),
		ReplacesKeyID:  dbx.String(row.ReplacesKeyID),
		DeletedAt:      row.DeletedAt.UTC(),
		DeletedByKeyID: row.DeletedByKeyID,
	}, nil
}
