package topup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/wallets"
)

// Tier is one reload-bonus tier: a top-up of at least MinTopup earns
// BonusBps basis points of itself (capped by MaxBonus when set) or the fixed
// BonusFixed. Exactly one of BonusBps and BonusFixed is set (non-zero).
type Tier struct {
	MinTopup   int64 `json:"min_topup_minor"`
	BonusBps   int64 `json:"bonus_bps,omitempty"`
	BonusFixed int64 `json:"bonus_fixed_minor,omitempty"`
	MaxBonus   int64 `json:"max_bonus_minor,omitempty"`
}

// ReloadBonusConfig is one version of a merchant's tiers for a currency.
type ReloadBonusConfig struct {
	Currency           string
	Version            int
	Tiers              []Tier // ascending MinTopup
	BonusExpiresInDays int
	Active             bool
	CreatedAt          time.Time
}

// BonusFor is the bonus a top-up of amount earns: the highest tier whose
// minimum it reaches; 0 when the config is inactive or no tier applies.
// Basis-point bonuses round down.
func (c ReloadBonusConfig) BonusFor(amount int64) int64 {
	if !c.Active {
		return 0
	}
	var tier *Tier
	for i := range c.Tiers {
		if amount >= c.Tiers[i].MinTopup {
			tier = &c.Tiers[i]
		}
	}
	switch {
	case tier == nil:
		return 0
	case tier.BonusFixed > 0:
		return tier.BonusFixed
	}
	bonus := amount/10_000*tier.BonusBps + amount%10_000*tier.BonusBps/10_000
	if tier.MaxBonus > 0 {
		bonus = min(bonus, tier.MaxBonus)
	}
	return bonus
}

// TierInput is a tier as a client sent it; nil is absent.
type TierInput struct {
	MinTopup   int64
	BonusBps   *int64
	BonusFixed *int64
	MaxBonus   *int64
}

// ReloadBonusInput replaces a currency's reload-bonus configuration.
type ReloadBonusInput struct {
	MerchantID         string
	IntegrationID      string
	OperatorID         string
	Currency           string
	Tiers              []TierInput
	BonusExpiresInDays int
	Active             bool
}

const maxTiers = 20

// validTiers checks the tiers and returns them by ascending minimum.
func validTiers(in []TierInput) ([]Tier, error) {
	if len(in) < 1 || len(in) > maxTiers {
		return nil, invalid(FieldReloadTiers, "Give 1 to %d tiers.", maxTiers)
	}
	out := make([]Tier, len(in))
	seen := map[int64]int{}
	for i, t := range in {
		if (t.BonusBps == nil) == (t.BonusFixed == nil) {
			return nil, invalid(FieldReloadTier, "Give exactly one of bonus_bps and bonus_fixed_minor.").At(i)
		}
		if t.MaxBonus != nil && t.BonusBps == nil {
			return nil, invalid(FieldReloadTierMaxBonus, "max_bonus_minor caps a bonus_bps bonus; this tier has a fixed bonus.").At(i)
		}
		if j, dup := seen[t.MinTopup]; dup {
			return nil, invalid(FieldReloadTierMinTopup, "Tiers %d and %d have the same min_topup_minor.", j, i).At(i)
		}
		seen[t.MinTopup] = i
		out[i] = Tier{MinTopup: t.MinTopup, BonusBps: deref(t.BonusBps), BonusFixed: deref(t.BonusFixed), MaxBonus: deref(t.MaxBonus)}
	}
	slices.SortFunc(out, func(a, b Tier) int { return int(a.MinTopup - b.MinTopup) })
	return out, nil
}

// SetReloadBonus writes a new version of the currency's configuration.
func (s *Service) SetReloadBonus(ctx context.Context, in ReloadBonusInput) (ReloadBonusConfig, error) {
	if err := wallets.CheckCurrency(in.Currency, FieldReloadCurrency); err != nil {
		return ReloadBonusConfig{}, err
	}
	tiers, err := validTiers(in.Tiers)
	if err != nil {
		return ReloadBonusConfig{}, err
	}
	raw, err := json.Marshal(tiers)
	if err != nil {
		return ReloadBonusConfig{}, fmt.Errorf("encoding tiers: %w", err)
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (ReloadBonusConfig, error) {
		if err := q.ReloadBonusConfigLock(ctx, db.ReloadBonusConfigLockParams{MerchantID: in.MerchantID, Currency: in.Currency}); err != nil {
			return ReloadBonusConfig{}, fmt.Errorf("locking reload-bonus config: %w", err)
		}
		row, err := q.ReloadBonusConfigInsert(ctx, db.ReloadBonusConfigInsertParams{
			MerchantID: in.MerchantID, Currency: in.Currency, Tiers: raw,
			BonusExpiresInDays: int32(in.BonusExpiresInDays), Active: in.Active,
			IntegrationID: in.IntegrationID, OperatorID: dbx.NullString(in.OperatorID),
		})
		if err != nil {
			return ReloadBonusConfig{}, fmt.Errorf("writing reload-bonus config: %w", err)
		}
		return configFromRow(row)
	})
}

// ReloadBonus reads the current configuration of the currency.
func (s *Service) ReloadBonus(ctx context.Context, merchantID, currency string) (ReloadBonusConfig, error) {
	if err := wallets.CheckCurrency(currency, FieldReloadBonusCurrency); err != nil {
		return ReloadBonusConfig{}, err
	}
	return currentConfig(ctx, dbx.Q(ctx, s.pool), merchantID, currency)
}

func currentConfig(ctx context.Context, q *db.Queries, merchantID, currency string) (ReloadBonusConfig, error) {
	row, err := q.ReloadBonusConfigCurrent(ctx, db.ReloadBonusConfigCurrentParams{MerchantID: merchantID, Currency: currency})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return ReloadBonusConfig{}, ErrConfigNotFound
		}
		return ReloadBonusConfig{}, fmt.Errorf("reading reload-bonus config: %w", err)
	}
	return configFromRow(row)
}

func configFromRow(r db.ReloadBonusConfig) (ReloadBonusConfig, error) {
	c := ReloadBonusConfig{
		Currency: r.Currency, Version: int(r.Version), BonusExpiresInDays: int(r.BonusExpiresInDays),
		Active: r.Active, CreatedAt: r.CreatedAt.UTC(),
	}
	if err := json.Unmarshal(r.Tiers, &c.Tiers); err != nil {
		return ReloadBonusConfig{}, fmt.Errorf("decoding tiers of %s v%d: %w", r.Currency, r.Version, err)
	}
	return c, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
