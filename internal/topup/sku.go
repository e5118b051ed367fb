package topup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/keyset"
	"github.com/feddi/partner-api/internal/wallets"
)

// Sku is a top-up product of the merchant's catalog (a gift card).
type Sku struct {
	SkuID              string
	Currency           string
	FaceValue          int64
	Bonus              int64
	BonusExpiresInDays int
	Active             bool
	UpdatedAt          time.Time
}

// SkuInput creates or replaces a SKU.
type SkuInput struct {
	MerchantID string
	Sku
}

// SkuSale is a SKU sold at the till.
type SkuSale struct {
	MerchantID    string
	IntegrationID string
	SkuID         string
	WalletID      string
	Quantity      int
	POSReference  string
	Context       ledger.Context
}

// SellSku credits face value x quantity to the wallet's actual money (from
// the merchant's SKU clearing account) and accrues bonus x quantity as one
// sku_bonus grant. An unknown or inactive SKU is *SkuNotFoundError.
func (s *Service) SellSku(ctx context.Context, sale SkuSale) (Result, error) {
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Result, error) {
		row, err := q.SkuGet(ctx, db.SkuGetParams{MerchantID: sale.MerchantID, SkuID: sale.SkuID})
		if err = dbx.Interpret(err); err != nil {
			if errors.Is(err, dbx.ErrNotFound) {
				return Result{}, &SkuNotFoundError{SkuID: sale.SkuID}
			}
			return Result{}, fmt.Errorf("reading SKU %s: %w", sale.SkuID, err)
		}
		sku := skuFromRow(row)
		if !sku.Active {
			return Result{}, &SkuNotFoundError{SkuID: sale.SkuID}
		}
		w, err := wallets.GetForUpdate(ctx, q, sale.MerchantID, sale.WalletID)
		if err != nil {
			return Result{}, err
		}
		if w.Currency != sku.Currency {
			return Result{}, invalid(FieldSaleWalletID, "SKU %s is sold in %s; the wallet is in %s.", sku.SkuID, sku.Currency, w.Currency)
		}
		qty := int64(sale.Quantity)
		now := s.now()
		res, err := credit(ctx, q, w, credited{
			Type: ledger.TypeSkuTopup, Amount: sku.FaceValue * qty, From: ledger.SkuClearing(sale.MerchantID),
			IntegrationID: sale.IntegrationID, Context: sale.Context,
			References: ledger.References{SkuID: sku.SkuID, POSReference: sale.POSReference},
			Now:        now,
		}, func(_ ledger.Transaction, now time.Time) *grants.NewGrant {
			if sku.Bonus == 0 {
				return nil
			}
			return &grants.NewGrant{
				Source: grants.SourceSkuBonus, SourceRef: sku.SkuID, Amount: sku.Bonus * qty,
				ExpiresAt: now.AddDate(0, 0, sku.BonusExpiresInDays),
			}
		})
		if err != nil {
			return Result{}, err
		}
		// A SKU sale is a top-up: topup.confirmed, seen by the selling
		// integration only, as for POST /topup/confirm.
		return res, events.Record(ctx, q, events.Event{
			Type: events.TopupConfirmed, MerchantID: sale.MerchantID, IntegrationID: sale.IntegrationID, Object: res, At: now,
		})
	})
}

// UpsertSku creates the SKU or replaces every field of it. A SKU that was
// sold keeps its currency (ErrInvalid about its Currency).
func (s *Service) UpsertSku(ctx context.Context, in SkuInput) (Sku, error) {
	if err := wallets.CheckCurrency(in.Currency, FieldSkuCurrency); err != nil {
		return Sku{}, err
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (Sku, error) {
		old, err := q.SkuGetForUpdate(ctx, db.SkuGetForUpdateParams{MerchantID: in.MerchantID, SkuID: in.SkuID})
		switch err = dbx.Interpret(err); {
		case err == nil && old.Currency != in.Currency:
			sold, err := q.SkuWasSold(ctx, db.SkuWasSoldParams{MerchantID: in.MerchantID, SkuID: &in.SkuID})
			if err != nil {
				return Sku{}, fmt.Errorf("checking sales of SKU %s: %w", in.SkuID, err)
			}
			if sold {
				return Sku{}, invalid(FieldSkuCurrency, "SKU %s was already sold in %s; its currency cannot change.", in.SkuID, old.Currency)
			}
		case err != nil && !errors.Is(err, dbx.ErrNotFound):
			return Sku{}, fmt.Errorf("reading SKU %s: %w", in.SkuID, err)
		}
		row, err := q.SkuUpsert(ctx, db.SkuUpsertParams{
			MerchantID: in.MerchantID, SkuID: in.SkuID, Currency: in.Currency, FaceValueMinor: in.FaceValue,
			BonusMinor: in.Bonus, BonusExpiresInDays: int32(in.BonusExpiresInDays), Active: in.Active, Now: s.now(),
		})
		if err != nil {
			return Sku{}, fmt.Errorf("writing SKU %s: %w", in.SkuID, err)
		}
		return skuFromRow(row), nil
	})
}

// SkuQuery asks for a page of the catalog.
type SkuQuery struct {
	MerchantID string
	Limit      int
	Cursor     string
}

// ListSkus reads a page of the catalog, inactive SKUs included.
func (s *Service) ListSkus(ctx context.Context, sq SkuQuery) (keyset.Page[Sku], error) {
	listing := keyset.Listing("skus", sq.MerchantID)
	params := db.SkuListParams{MerchantID: sq.MerchantID, PageSize: int32(sq.Limit + 1)}
	if sq.Cursor != "" {
		pos, err := keyset.Decode(listing, sq.Cursor)
		if err != nil {
			return keyset.Page[Sku]{}, keyset.ErrInvalid
		}
		params.BeforeUpdatedAt, params.BeforeSkuID = &pos.At, &pos.Key
	}
	rows, err := dbx.Q(ctx, s.pool).SkuList(ctx, params)
	if err != nil {
		return keyset.Page[Sku]{}, fmt.Errorf("listing SKUs: %w", err)
	}
	page := keyset.Page[Sku]{Items: make([]Sku, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, skuFromRow(r))
	}
	if len(page.Items) > sq.Limit {
		page.Items = page.Items[:sq.Limit]
		last := page.Items[len(page.Items)-1]
		page.NextCursor = keyset.Encode(listing, keyset.Position{At: last.UpdatedAt, Key: last.SkuID})
	}
	return page, nil
}

func skuFromRow(r db.Sku) Sku {
	return Sku{
		SkuID: r.SkuID, Currency: r.Currency, FaceValue: r.FaceValueMinor, Bonus: r.BonusMinor,
		BonusExpiresInDays: int(r.BonusExpiresInDays), Active: r.Active, UpdatedAt: r.UpdatedAt.UTC(),
	}
}
