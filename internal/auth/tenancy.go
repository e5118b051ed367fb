package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// Merchant is a business that accepts Feddi wallets.
type Merchant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Integration is one partner install for one merchant.
type Integration struct {
	ID                 string
	MerchantID         string
	Name               string
	DisabledOperations []string
	CreatedAt          time.Time
}

// Bootstrapped is what Bootstrap created: a merchant, its integration and a
// first key with role operator holding every scope but qr:mint
// (bootstrapScopes).
type Bootstrapped struct {
	Merchant    Merchant
	Integration Integration
	Key         IssuedKey
}

const (
	maxTenantNameLength = 200
	bootstrapKeyName    = "bootstrap"
)

// Bootstrap creates a merchant, an integration and its first API key, which
// has role operator and holds every scope but qr:mint (bootstrapScopes). The
// raw key is in the result, once.
func (s *Service) Bootstrap(ctx context.Context, merchantName, integrationName string) (Bootstrapped, error) {
	out, _, err := s.bootstrap(ctx, merchantName, integrationName, false)
	return out, err
}

// BootstrapIfEmpty is Bootstrap on a database without merchants; otherwise
// it creates nothing and says so (created false). Concurrent calls create
// one merchant.
func (s *Service) BootstrapIfEmpty(ctx context.Context, merchantName, integrationName string) (out Bootstrapped, created bool, err error) {
	return s.bootstrap(ctx, merchantName, integrationName, true)
}

func (s *Service) bootstrap(ctx context.Context, merchantName, integrationName string, onlyIfEmpty bool) (Bootstrapped, bool, error) {
	merchantName, integrationName = strings.TrimSpace(merchantName), strings.TrimSpace(integrationName)
	if !validTenantName(merchantName) {
		return Bootstrapped{}, false, deny(ErrInvalid, "merchant must be 1 to %d characters", maxTenantNameLength)
	}
	if !validTenantName(integrationName) {
		return Bootstrapped{}, false, deny(ErrInvalid, "integration must be 1 to %d characters", maxTenantNameLength)
	}
	var created bool
	out, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Bootstrapped, error) {
		created = false
		if err := q.MerchantLockBootstrap(ctx); err != nil {
			return Bootstrapped{}, fmt.Errorf("locking bootstrap: %w", err)
		}
		if onlyIfEmpty {
			exists, err := q.MerchantExists(ctx)
			if err != nil {
				return Bootstrapped{}, fmt.Errorf("looking for merchants: %w", err)
			}
			if exists {
				return Bootstrapped{}, nil
			}
		}
		m, err := q.MerchantInsert(ctx, db.MerchantInsertParams{ID: ids.New(ids.Merchant), Name: merchantName})
		if err != nil {
			return Bootstrapped{}, fmt.Errorf("creating merchant: %w", dbx.Interpret(err))
		}
		in, err := q.IntegrationInsert(ctx, db.IntegrationInsertParams{ID: ids.New(ids.Integration), MerchantID: m.ID, Name: integrationName})
		if err != nil {
			return Bootstrapped{}, fmt.Errorf("creating integration: %w", dbx.Interpret(err))
		}
		key, err := s.insertKey(ctx, q, newKey{
			MerchantID: m.ID, IntegrationID: in.ID, Name: bootstrapKeyName, Role: RoleOperator, Scopes: s.bootstrapScopes(),
		})
		if err != nil {
			return Bootstrapped{}, err
		}
		created = true
		return Bootstrapped{Merchant: merchantFromRow(m), Integration: integrationFromRow(in), Key: key}, nil
	})
	return out, created, err
}

// bootstrapScopes are the scopes of an integration's first key: every scope
// but qr:mint. It is the back office's key, which pays (payments:write) and
// so may not mint; being an operator, it may still create the wallet app's
// qr:mint key (mayGrant).
func (s *Service) bootstrapScopes() []string { return terminalScopes(s.Scopes()) }

// CreateIntegration adds an integration to a merchant, with a first key
// like Bootstrap's (bootstrapScopes, role operator).
func (s *Service) CreateIntegration(ctx context.Context, merchantID, name string) (Integration, IssuedKey, error) {
	name = strings.TrimSpace(name)
	if !validTenantName(name) {
		return Integration{}, IssuedKey{}, deny(ErrInvalid, "integration must be 1 to %d characters", maxTenantNameLength)
	}
	type result struct {
		in  Integration
		key IssuedKey
	}
	r, err := dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (result, error) {
		if _, err := q.MerchantGet(ctx, merchantID); err != nil {
			if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
				return result{}, deny(ErrNotFound, "no merchant %s", merchantID)
			}
			return result{}, fmt.Errorf("reading merchant: %w", err)
		}
		in, err := q.IntegrationInsert(ctx, db.IntegrationInsertParams{ID: ids.New(ids.Integration), MerchantID: merchantID, Name: name})
		if err != nil {
			return result{}, fmt.Errorf("creating integration: %w", dbx.Interpret(err))
		}
		key, err := s.insertKey(ctx, q, newKey{
			MerchantID: merchantID, IntegrationID: in.ID, Name: bootstrapKeyName, Role: RoleOperator, Scopes: s.bootstrapScopes(),
		})
		if err != nil {
			return result{}, err
		}
		return result{integrationFromRow(in), key}, nil
	})
	return r.in, r.key, err
}

// SetDisabledOperations turns the named operations off (and every other
// on) for one integration; calls to them answer operation_not_enabled.
func (s *Service) SetDisabledOperations(ctx context.Context, merchantID, integrationID string, operationIDs []string) (Integration, error) {
	ops := slices.Clone(operationIDs)
	slices.Sort(ops)
	ops = slices.Compact(ops)
	if ops == nil {
		ops = []string{}
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Integration, error) {
		row, err := q.IntegrationSetDisabledOperations(ctx, db.IntegrationSetDisabledOperationsParams{
			DisabledOperations: ops, ID: integrationID, MerchantID: merchantID,
		})
		if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
			return Integration{}, deny(ErrNotFound, "no integration %s", integrationID)
		}
		if err != nil {
			return Integration{}, fmt.Errorf("updating integration: %w", err)
		}
		return integrationFromRow(row), nil
	})
}

func validTenantName(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= 1 && n <= maxTenantNameLength
}

func merchantFromRow(r db.Merchant) Merchant {
	return Merchant{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
}

func integrationFromRow(r db.Integration) Integration {
	return Integration{ID: r.ID, MerchantID: r.MerchantID, Name: r.Name, DisabledOperations: r.DisabledOperations, CreatedAt: r.CreatedAt.UTC()}
}
