// Package topup is money in: settled top-ups and SKUs sold at the till
// credit a wallet's actual money, and accrue bonuses as promotional grants
// (locked while the wallet is pending_proof). It also keeps the merchant's
// reload-bonus tiers (versioned) and SKU catalog.
//
// API (Service, for the HTTP layer; every write runs in the request's
// transaction through dbx.InTx):
//
//	Confirm(ctx, Confirmation) (Result, error)      POST /topup/confirm
//	SellSku(ctx, SkuSale) (Result, error)          POST /topup/sku/{skuId}
//	SetReloadBonus(ctx, ReloadBonusInput) (ReloadBonusConfig, error)
//	ReloadBonus(ctx, merchantID, currency) (ReloadBonusConfig, error)
//	UpsertSku(ctx, SkuInput) (Sku, error)
//	ListSkus(ctx, SkuQuery) (keyset.Page[Sku], error)
//
// A top-up with a bonus is five statements, in a savepoint of the request's
// transaction (after the idempotency key's lock and read, before its
// record and the commit): the bonus tiers, the wallet lock, the credit (one
// statement: ledger.Post), the grant with its history (one), the grant's
// credit (ledger.Post). TestTopupStatementBudget keeps it so.
package topup

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/wallets"
)

// Service runs the top-up operations.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns the service over pool, reading time from now.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// Result is a credited top-up: its transaction, the wallet as the top-up
// and its bonus left it, and the bonus grant (nil when none applied).
type Result struct {
	Transaction ledger.Transaction
	Wallet      wallets.Wallet
	BonusGrant  *grants.Grant
}

var (
	// ErrInvalid: a value the rules refuse (a *fielderr.Error names it).
	ErrInvalid = errors.New("invalid top-up input")
	// ErrSettlementReferenceUsed matches every SettlementReferenceUsedError.
	ErrSettlementReferenceUsed = errors.New("settlement reference already used")
	// ErrSkuNotFound matches every SkuNotFoundError.
	ErrSkuNotFound = errors.New("sku not found")
	// ErrConfigNotFound: no reload-bonus configuration was ever set for the currency.
	ErrConfigNotFound = errors.New("no reload-bonus configuration for this currency")
)

// The inputs the package's errors name (fielderr.Field).
const (
	// FieldConfirmationCurrency is the currency of a Confirmation.
	FieldConfirmationCurrency fielderr.Field = "topup.Confirmation.Currency"
	// FieldConfirmationSettlementReference is the settlement reference of a
	// Confirmation.
	FieldConfirmationSettlementReference fielderr.Field = "topup.Confirmation.SettlementReference"
	// FieldSaleWalletID is the wallet of a SkuSale.
	FieldSaleWalletID fielderr.Field = "topup.SkuSale.WalletID"
	// FieldSkuCurrency is the currency of a SkuInput.
	FieldSkuCurrency fielderr.Field = "topup.SkuInput.Currency"
	// FieldReloadCurrency is the currency of a ReloadBonusInput.
	FieldReloadCurrency fielderr.Field = "topup.ReloadBonusInput.Currency"
	// FieldReloadTiers is the list of tiers of a ReloadBonusInput.
	FieldReloadTiers fielderr.Field = "topup.ReloadBonusInput.Tiers"
	// FieldReloadTier is one tier of a ReloadBonusInput.
	FieldReloadTier fielderr.Field = "topup.ReloadBonusInput.Tiers[]"
	// FieldReloadTierMaxBonus is the bonus cap of one tier.
	FieldReloadTierMaxBonus fielderr.Field = "topup.ReloadBonusInput.Tiers[].MaxBonus"
	// FieldReloadTierMinTopup is the minimum top-up of one tier.
	FieldReloadTierMinTopup fielderr.Field = "topup.ReloadBonusInput.Tiers[].MinTopup"
	// FieldReloadBonusCurrency is the currency given to ReloadBonus.
	FieldReloadBonusCurrency fielderr.Field = "topup.ReloadBonus.currency"
)

// invalid is ErrInvalid about one input.
func invalid(field fielderr.Field, format string, args ...any) *fielderr.Error {
	return fielderr.New(ErrInvalid, field, format, args...)
}

// SettlementReferenceUsedError: the merchant already confirmed a top-up
// with this provider and settlement reference.
type SettlementReferenceUsedError struct {
	// TransactionID is the transaction of the first confirmation.
	TransactionID string
}

func (e *SettlementReferenceUsedError) Error() string {
	return "This settlement reference was already confirmed."
}

// Is makes errors.Is(err, ErrSettlementReferenceUsed) hold.
func (e *SettlementReferenceUsedError) Is(target error) bool {
	return target == ErrSettlementReferenceUsed
}

// Details names the first confirmation's transaction.
func (e *SettlementReferenceUsedError) Details() map[string]any {
	return map[string]any{"transaction_id": e.TransactionID}
}

// InputField is the settlement reference that repeated.
func (e *SettlementReferenceUsedError) InputField() fielderr.Input {
	return fielderr.Input{Field: FieldConfirmationSettlementReference}
}

// SkuNotFoundError: no active SKU with this id in the catalog.
type SkuNotFoundError struct{ SkuID string }

func (e *SkuNotFoundError) Error() string { return "No active SKU " + e.SkuID + "." }

// Is makes errors.Is(err, ErrSkuNotFound) hold.
func (e *SkuNotFoundError) Is(target error) bool { return target == ErrSkuNotFound }
