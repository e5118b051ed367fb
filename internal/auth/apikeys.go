package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/ids"
	"github.com/feddi/partner-api/internal/platform/keyset"
)

// Key is an API key's metadata. The raw secret is never stored and appears
// only in IssuedKey, once.
type Key struct {
	ID            string
	MerchantID    string
	IntegrationID string
	Name          string
	// Prefix is the start of the raw key, enough to tell keys apart.
	Prefix     string
	Role       Role
	Scopes     []string
	Status     KeyStatus
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	// ReplacesKeyID is the key this one was regenerated from, if any.
	ReplacesKeyID string
}

// IssuedKey is a key just created, with its raw secret: the only time the
// secret exists outside the caller's hands.
type IssuedKey struct {
	Key    Key
	Secret string
}

// NewKey describes a key to create.
type NewKey struct {
	Name   string
	Scopes []string
	// Role defaults to RoleIntegration.
	Role      Role
	ExpiresAt *time.Time
}

// Regenerated is the outcome of RegenerateKey: the old key, now revoked, and
// its replacement.
type Regenerated struct {
	Revoked Key
	Issued  IssuedKey
}

const (
	maxKeyNameLength = 100
	// prefixChars of the random part are kept in the listing prefix.
	prefixChars = 6
)

// keyTag starts every raw key of the environment, so a key pasted into the
// wrong environment (or into a repository) is recognisable.
func keyTag(env config.Environment) string {
	if env == config.Live {
		return "fk_live_"
	}
	return "fk_test_"
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// secretLength base62 characters carry at least 256 bits (62^43 > 2^256).
const secretLength = 43

// newSecret returns a raw key, its listing prefix and its hash. The secret
// is 256 random bits, so one SHA-256 is enough to store it (there is nothing
// to stretch, unlike a password).
func (s *Service) newSecret() (raw, prefix string, hash []byte, err error) {
	random := make([]byte, secretLength)
	for i := range random {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(base62))))
		if err != nil {
			return "", "", nil, fmt.Errorf("reading randomness: %w", err)
		}
		random[i] = base62[n.Int64()]
	}
	raw = keyTag(s.cfg.Environment) + string(random)
	return raw, keyTag(s.cfg.Environment) + string(random[:prefixChars]), hashSecret(raw), nil
}

func hashSecret(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// sameHash compares two hashes in constant time.
func sameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// CreateKey makes a key for the caller's integration. A key may grant only
// scopes it holds, and only an operator may create an operator.
func (s *Service) CreateKey(ctx context.Context, caller Principal, in NewKey) (IssuedKey, error) {
	if caller.Kind != KindAPIKey {
		return IssuedKey{}, deny(ErrForbidden, "keys are managed with an API key, not a terminal token")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLength {
		return IssuedKey{}, invalid(FieldKeyName, "must be 1 to %d characters", maxKeyNameLength)
	}
	if len(in.Scopes) == 0 {
		return IssuedKey{}, invalid(FieldKeyScopes, "must name at least one scope")
	}
	scopes, err := s.canonicalScopes(FieldKeyScope, in.Scopes)
	if err != nil {
		return IssuedKey{}, err
	}
	role := in.Role
	if role == "" {
		role = RoleIntegration
	}
	if !role.valid() {
		return IssuedKey{}, invalid(FieldKeyRole, "must be integration or operator")
	}
	if err := exclusive(FieldKeyScopes, scopes); err != nil {
		return IssuedKey{}, err
	}
	if err := mayGrant(caller, &requested{scopes: FieldKeyScope, role: FieldKeyRole}, in.Scopes, role); err != nil {
		return IssuedKey{}, err
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return IssuedKey{}, invalid(FieldKeyExpiresAt, "must be in the future")
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (IssuedKey, error) {
		return s.insertKey(ctx, q, newKey{
			MerchantID: caller.MerchantID, IntegrationID: caller.IntegrationID, Name: name, Role: role, Scopes: scopes, ExpiresAt: in.ExpiresAt,
		})
	})
}

// exclusive refuses a set of scopes holding both of an exclusive pair
// (qr:mint and payments:write): the credential that stands for the
// customer's consent must never be the one that spends it.
func exclusive(field fielderr.Field, scopes []string) error {
	for _, pair := range exclusiveScopes {
		if slices.Contains(scopes, pair[0]) && slices.Contains(scopes, pair[1]) {
			e := invalid(field, "cannot hold both %s and %s: the key that mints a wallet's QR (the wallet app) never pays with it (the till)", pair[0], pair[1])
			return e.WithDetails(map[string]any{"exclusive_scopes": []string{pair[0], pair[1]}})
		}
	}
	return nil
}

// requested names the inputs that asked for scopes and a role (mayGrant).
type requested struct {
	scopes fielderr.Field // one scope, "[]"
	role   fielderr.Field
}

// mayGrant refuses a key (or a regeneration) with a scope or role the caller
// does not hold. in names the inputs that requested them, nil when they were
// not requested (regenerate).
//
// One exception: an operator key may grant qr:mint without holding it. No
// key holding payments:write may hold qr:mint, so without the exception a
// merchant's back office (the bootstrap key) could never provision its
// wallet app's key; keeping it to operators keeps it out of tills' keys.
func mayGrant(caller Principal, in *requested, scopes []string, role Role) error {
	have := caller.Scopes
	if caller.Role == RoleOperator {
		have = append(slices.Clone(have), ScopeQRMint)
	}
	if missing := missingScopes(have, scopes); len(missing) > 0 {
		const msg = "this key cannot grant scopes it does not hold: %s"
		details := map[string]any{"missing_scopes": missing}
		if in == nil {
			e := deny(ErrScopeEscalation, msg, strings.Join(missing, " "))
			e.details = details
			return e
		}
		return fielderr.New(ErrScopeEscalation, in.scopes, msg, strings.Join(missing, " ")).
			At(slices.Index(scopes, missing[0])).WithDetails(details)
	}
	if role == RoleOperator && caller.Role != RoleOperator {
		const msg = "only an operator key can grant the operator role"
		if in == nil {
			return deny(ErrScopeEscalation, msg)
		}
		return fielderr.New(ErrScopeEscalation, in.role, msg)
	}
	return nil
}

// newKey is an API key to store.
type newKey struct {
	MerchantID    string
	IntegrationID string
	Name          string
	Role          Role
	Scopes        []string
	ExpiresAt     *time.Time
	// ReplacesKeyID names the key a regeneration replaces; empty for a new key.
	ReplacesKeyID string
}

// insertKey stores a key with a fresh secret, which only the answer carries.
func (s *Service) insertKey(ctx context.Context, q *db.Queries, k newKey) (IssuedKey, error) {
	raw, prefix, hash, err := s.newSecret()
	if err != nil {
		return IssuedKey{}, err
	}
	row, err := q.ApiKeyInsert(ctx, db.ApiKeyInsertParams{
		ID:            ids.New(ids.APIKey),
		MerchantID:    k.MerchantID,
		IntegrationID: k.IntegrationID,
		Name:          k.Name,
		Prefix:        prefix,
		SecretHash:    hash,
		Role:          string(k.Role),
		Scopes:        k.Scopes,
		ExpiresAt:     k.ExpiresAt,
		ReplacesKeyID: dbx.NullString(k.ReplacesKeyID),
	})
	if err != nil {
		return IssuedKey{}, fmt.Errorf("inserting API key: %w", dbx.Interpret(err))
	}
	return IssuedKey{Key: keyFromRow(row), Secret: raw}, nil
}

// ListKeys returns one page of the caller's integration's keys, newest
// first: limit of them at most (the caller applies the listing's default
// and maximum, which the document's limit parameter states); cursor is the
// NextCursor of the page before, empty for the first page.
func (s *Service) ListKeys(ctx context.Context, caller Principal, limit int, cursor string) (keyset.Page[Key], error) {
	if limit < 1 {
		return keyset.Page[Key]{}, invalid(FieldListLimit, "must be 1 or more")
	}
	params := db.ApiKeyListParams{IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID, RowLimit: int32(limit + 1)}
	if cursor != "" {
		pos, err := keyset.Decode(keyListing(caller), cursor)
		if err != nil {
			return keyset.Page[Key]{}, invalid(FieldListCursor, "is not a cursor of this listing")
		}
		params.BeforeAt, params.BeforeID = &pos.At, &pos.Key
	}
	rows, err := dbx.Q(ctx, s.pool).ApiKeyList(ctx, params)
	if err != nil {
		return keyset.Page[Key]{}, fmt.Errorf("listing API keys: %w", err)
	}
	page := keyset.Page[Key]{Items: make([]Key, 0, min(len(rows), limit))}
	for i, row := range rows {
		if i == limit {
			last := page.Items[limit-1]
			page.NextCursor = keyset.Encode(keyListing(caller), keyset.Position{At: last.CreatedAt, Key: last.ID})
			break
		}
		page.Items = append(page.Items, keyFromRow(row))
	}
	return page, nil
}

// keyListing names the listing a cursor belongs to, so that a cursor of one
// integration's keys is refused anywhere else.
func keyListing(caller Principal) string {
	return keyset.Listing("api_keys", caller.MerchantID, caller.IntegrationID)
}

// GetKey returns one key of the caller's integration.
func (s *Service) GetKey(ctx context.Context, caller Principal, keyID string) (Key, error) {
	row, err := dbx.Q(ctx, s.pool).ApiKeyGet(ctx, db.ApiKeyGetParams{ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID})
	if err != nil {
		return Key{}, keyError(keyID, err)
	}
	return keyFromRow(row), nil
}

// RevokeKey revokes a key of the caller's integration. The record is kept
// for audit; the key and every token it minted are refused from now on.
// Revoking a revoked key changes nothing. The caller must hold everything
// the key holds, or a narrow key could shut an operator out.
func (s *Service) RevokeKey(ctx context.Context, caller Principal, keyID string) (Key, error) {
	if caller.Kind != KindAPIKey {
		return Key{}, deny(ErrForbidden, "keys are managed with an API key, not a terminal token")
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Key, error) {
		target, err := outranked(ctx, q, caller, keyID)
		if err != nil {
			return Key{}, err
		}
		row, err := q.ApiKeyRevoke(ctx, db.ApiKeyRevokeParams{ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID, Now: s.now()})
		if err != nil {
			return Key{}, keyError(keyID, err)
		}
		k := keyFromRow(row)
		if KeyStatus(target.Status) == KeyRevoked {
			return k, nil // nothing changed
		}
		return k, s.recordRevoked(ctx, q, k)
	})
}

// recordRevoked records a key's revocation (by RevokeKey or RegenerateKey)
// in its transaction. Keys belong to an integration: only it sees the
// event.
func (s *Service) recordRevoked(ctx context.Context, q *db.Queries, k Key) error {
	return events.Record(ctx, q, events.Event{
		Type: events.APIKeyRevoked, MerchantID: k.MerchantID, IntegrationID: k.IntegrationID, Object: k, At: s.now(),
	})
}

// outranked locks a key of the caller's integration and checks that the
// caller holds its every scope and its role (mayGrant), as managing a key is
// acting with its rights.
func outranked(ctx context.Context, q *db.Queries, caller Principal, keyID string) (db.ApiKey, error) {
	target, err := q.ApiKeyGetForUpdate(ctx, db.ApiKeyGetForUpdateParams{ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID})
	if err != nil {
		return db.ApiKey{}, keyError(keyID, err)
	}
	if err := mayGrant(caller, nil, target.Scopes, Role(target.Role)); err != nil {
		return db.ApiKey{}, err
	}
	return target, nil
}

// RegenerateKey revokes a key and issues its replacement with the same
// name, scopes and role (and expiry, while that is in the future). The
// caller must hold everything the key holds.
func (s *Service) RegenerateKey(ctx context.Context, caller Principal, keyID string) (Regenerated, error) {
	if caller.Kind != KindAPIKey {
		return Regenerated{}, deny(ErrForbidden, "keys are managed with an API key, not a terminal token")
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Regenerated, error) {
		old, err := outranked(ctx, q, caller, keyID)
		if err != nil {
			return Regenerated{}, err
		}
		// The database refuses such a key since 00009; this says why to a
		// caller who regenerates one restored from before it.
		if err := exclusive(FieldRegeneratedKey, old.Scopes); err != nil {
			return Regenerated{}, err
		}
		revoked, err := q.ApiKeyRevoke(ctx, db.ApiKeyRevokeParams{ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID, Now: s.now()})
		if err != nil {
			return Regenerated{}, keyError(keyID, err)
		}
		if KeyStatus(old.Status) != KeyRevoked {
			if err := s.recordRevoked(ctx, q, keyFromRow(revoked)); err != nil {
				return Regenerated{}, err
			}
		}
		expiresAt := old.ExpiresAt
		if expiresAt != nil && !expiresAt.After(s.now()) {
			expiresAt = nil
		}
		issued, err := s.insertKey(ctx, q, newKey{
			MerchantID: old.MerchantID, IntegrationID: old.IntegrationID, Name: old.Name, Role: Role(old.Role), Scopes: old.Scopes,
			ExpiresAt: expiresAt, ReplacesKeyID: old.ID,
		})
		if err != nil {
			return Regenerated{}, err
		}
		return Regenerated{Revoked: keyFromRow(revoked), Issued: issued}, nil
	})
}

// DeleteKey removes a key's record, secret hash included, and leaves its
// tombstone (DeletedKey) in the same statement. Its tokens are refused at
// once. The caller must hold everything the key holds.
func (s *Service) DeleteKey(ctx context.Context, caller Principal, keyID string) error {
	if caller.Kind != KindAPIKey {
		return deny(ErrForbidden, "keys are managed with an API key, not a terminal token")
	}
	return dbx.InTx(ctx, s.pool, func(ctx context.Context, q *db.Queries) error {
		if _, err := outranked(ctx, q, caller, keyID); err != nil {
			return err
		}
		_, err := q.ApiKeyDelete(ctx, db.ApiKeyDeleteParams{
			ID: keyID, IntegrationID: caller.IntegrationID, MerchantID: caller.MerchantID,
			DeletedAt: s.now(), DeletedByKeyID: caller.KeyID,
		})
		if err != nil {
			return keyError(keyID, err)
		}
		return nil
	})
}

func keyError(keyID string, err error) error {
	if err = dbx.Interpret(err); errors.Is(err, dbx.ErrNotFound) {
		return deny(ErrNotFound, "no API key %s", keyID)
	}
	return fmt.Errorf("reading API key: %w", err)
}

func keyFromRow(r db.ApiKey) Key {
	k := Key{
		ID:            r.ID,
		MerchantID:    r.MerchantID,
		IntegrationID: r.IntegrationID,
		Name:          r.Name,
		Prefix:        r.Prefix,
		Role:          Role(r.Role),
		Scopes:        r.Scopes,
		Status:        KeyStatus(r.Status),
		CreatedAt:     r.CreatedAt.UTC(),
		LastUsedAt:    dbx.UTC(r.LastUsedAt),
		ExpiresAt:     dbx.UTC(r.ExpiresAt),
		RevokedAt:     dbx.UTC(r.RevokedAt),
	}
	if r.ReplacesKeyID != nil {
		k.ReplacesKeyID = *r.ReplacesKeyID
	}
	return k
}
