package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// Post books one movement: in ONE statement it applies the wallet's balance
// deltas, inserts the transaction with the balance it left and inserts the
// entries. It refuses a movement that breaks a ledger rule (ErrUnbalanced)
// before touching the database; the database refuses a negative balance
// (ErrNegativeBalance) and, at the end of the statement, entries that do
// not balance.
//
// The caller holds the wallet's lock and runs Post on its transaction's
// queries. Grant rows the movement concerns are written before Post, so the
// balance snapshot's next promo expiry sees them.
func Post(ctx context.Context, q *db.Queries, m Movement) (Transaction, error) {
	d, err := m.check()
	if err != nil {
		return Transaction{}, err
	}
	if m.ID == "" {
		m.ID = ids.New(ids.Transaction)
	}
	accounts := make([]string, len(m.Entries))
	amounts := make([]int64, len(m.Entries))
	for i, e := range m.Entries {
		accounts[i], amounts[i] = string(e.Account), e.Amount
	}
	row, err := q.LedgerPost(ctx, db.LedgerPostParams{
		ActualDelta:         d.actual,
		PromoAvailableDelta: d.promoAvailable,
		PromoLockedDelta:    d.promoLocked,
		HeldActualDelta:     d.heldActual,
		PromoDelta:          d.promoAvailable + d.promoLocked,
		MerchantID:          m.MerchantID,
		WalletID:            m.WalletID,
		Currency:            m.Currency,
		ID:                  m.ID,
		IntegrationID:       m.IntegrationID,
		TxnType:             string(m.Type),
		AmountMinor:         m.Amount,
		PaymentID:           dbx.NullString(m.References.PaymentID),
		GrantID:             dbx.NullString(m.References.GrantID),
		SettlementReference: dbx.NullString(m.References.SettlementReference),
		Provider:            dbx.NullString(m.References.Provider),
		SkuID:               dbx.NullString(m.References.SkuID),
		PosReference:        dbx.NullString(m.References.POSReference),
		TerminalID:          dbx.NullString(m.Context.TerminalID),
		LocationID:          dbx.NullString(m.Context.LocationID),
		OperatorID:          dbx.NullString(m.Context.OperatorID),
		Accounts:            accounts,
		Amounts:             amounts,
	})
	if err != nil {
		return Transaction{}, interpretPostError(m, err)
	}
	t := fromRow(row)
	t.Entries = make([]Entry, len(m.Entries))
	for i, e := range m.Entries {
		t.Entries[i] = Entry{Account: e.Account, Amount: e.Amount, Currency: m.Currency}
	}
	return t, nil
}

func interpretPostError(m Movement, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("posting %s: wallet %s: %w", m.Type, m.WalletID, ErrNotFound)
	case dbx.IsUniqueViolation(err, "ledger_transactions_settlement_key"):
		return fmt.Errorf("posting %s: %w", m.Type, ErrDuplicateSettlement)
	case errors.As(err, &pgErr) && pgErr.Code == "23514" && dbx.TableName(pgErr) == "wallets":
		return fmt.Errorf("posting %s on wallet %s: %w (%s)", m.Type, m.WalletID, ErrNegativeBalance, dbx.ConstraintName(pgErr))
	}
	return fmt.Errorf("posting %s on wallet %s: %w", m.Type, m.WalletID, err)
}

// Get reads one of the merchant's transactions with its entries.
func Get(ctx context.Context, q *db.Queries, merchantID, id string) (Transaction, error) {
	row, err := q.LedgerTransactionGet(ctx, db.LedgerTransactionGetParams{MerchantID: merchantID, ID: id})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Transaction{}, ErrNotFound
		}
		return Transaction{}, fmt.Errorf("reading transaction %s: %w", id, err)
	}
	t := fromRow(row)
	if t.Entries, err = Entries(ctx, q, merchantID, id); err != nil {
		return Transaction{}, err
	}
	return t, nil
}

// Entries reads the entries of a transaction the caller already scoped to
// its merchant, in booking order.
func Entries(ctx context.Context, q *db.Queries, merchantID, txnID string) ([]Entry, error) {
	rows, err := q.LedgerEntriesOf(ctx, db.LedgerEntriesOfParams{MerchantID: merchantID, TransactionID: txnID})
	if err != nil {
		return nil, fmt.Errorf("reading entries of %s: %w", txnID, err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry{Account: Account(r.Account), Amount: r.AmountMinor, Currency: r.Currency}
	}
	return out, nil
}

// TransactionBySettlement is the id of the merchant's transaction that
// booked a (provider, settlement reference) pair.
func TransactionBySettlement(ctx context.Context, q *db.Queries, merchantID, provider, reference string) (string, error) {
	id, err := q.LedgerTransactionBySettlement(ctx, db.LedgerTransactionBySettlementParams{
		MerchantID: merchantID, Provider: &provider, SettlementReference: &reference,
	})
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return "", ErrNotFound
		}
		return "", fmt.Errorf("finding settlement %s/%s: %w", provider, reference, err)
	}
	return id, nil
}

// FromRow converts a stored transaction. Exported for the store code of
// the packages that read transactions (transactions); sqlc rows stop there.
func FromRow(r db.LedgerTransaction) Transaction { return fromRow(r) }

func fromRow(r db.LedgerTransaction) Transaction {
	return Transaction{
		ID:            r.ID,
		MerchantID:    r.MerchantID,
		IntegrationID: r.IntegrationID,
		Type:          Type(r.Type),
		WalletID:      r.WalletID,
		CustomerID:    r.CustomerID,
		Currency:      r.Currency,
		Amount:        r.AmountMinor,
		ActualDelta:   r.ActualDeltaMinor,
		PromoDelta:    r.PromoDeltaMinor,
		BalanceAfter: Balance{
			Currency:          r.Currency,
			Actual:            r.ActualAfterMinor,
			PromoAvailable:    r.PromoAvailableAfterMinor,
			PromoLocked:       r.PromoLockedAfterMinor,
			NextPromoExpiryAt: dbx.UTC(r.NextPromoExpiryAfter),
		},
		References: References{
			PaymentID:           dbx.String(r.PaymentID),
			GrantID:             dbx.String(r.GrantID),
			SettlementReference: dbx.String(r.SettlementReference),
			Provider:            dbx.String(r.Provider),
			SkuID:               dbx.String(r.SkuID),
			POSReference:        dbx.String(r.PosReference),
		},
		Context: Context{
			TerminalID: dbx.String(r.TerminalID),
			LocationID: dbx.String(r.LocationID),
			OperatorID: dbx.String(r.OperatorID),
		},
		CreatedAt: r.CreatedAt.UTC(),
	}
}
