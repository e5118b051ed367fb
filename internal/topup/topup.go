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
//	ListSkus(ctx, SkuQuery) (SkuPage, error)
//
// A top-up with a bonus is five statements, in a savepoint of the request's
// transaction (after the idempotency key's lock and read, before its
// record and the commit): the bonus tiers, the wallet lock, the credit (one
// statement: ledger.Post), the grant with its history (one), the grant's
// credit (ledger.Post). TestTopupStatementBudget keeps it so.
package topup

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/wallets"
)

// Service runs the top-up operations.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns the service over pool.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Result is a credited top-up: its transaction, the wallet as the top-up
// and its bonus left it, and the bonus grant (nil when none applied).
type Result struct {
	Transaction ledger.Transaction
	Wallet      wallets.Wallet
	BonusGrant  *grants.Grant
}

var (
	// ErrInvalid matches every FieldError: a value the rules refuse.
	ErrInvalid = errors.New("invalid top-up input")
	// ErrSettlementReferenceUsed matches every SettlementReferenceUsedError.
	ErrSettlementReferenceUsed = errors.New("settlement reference already used")
	// ErrSkuNotFound matches every SkuNotFoundError.
	ErrSkuNotFound = errors.New("sku not found")
	// ErrConfigNotFound: no reload-bonus configuration was ever set for the currency.
	ErrConfigNotFound = errors.New("no reload-bonus configuration for this currency")
)

// FieldError: a value of one request field that the rules refuse.
type FieldError struct {
	field string
	msg   string
}

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

func (e *FieldError) Error() string { return e.msg }

// Field is the JSON pointer of the field at fault.
func (e *FieldError) Field() string { return e.field }

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

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

// Field is the request field that repeated.
func (e *SettlementReferenceUsedError) Field() string { return "/data/settlement_reference" }

// SkuNotFoundError: no active SKU with this id in the catalog.
type SkuNotFoundError struct{ SkuID string }

func (e *SkuNotFoundError) Error() string { return "No active SKU " + e.SkuID + "." }

// Is makes errors.Is(err, ErrSkuNotFound) hold.
func (e *SkuNotFoundError) Is(target error) bool { return target == ErrSkuNotFound }
