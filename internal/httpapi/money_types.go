package httpapi

// Conversions between the money domains (ledger, wallets, grants, topup) and
// the generated API types, shared by every handler that shows a wallet, a
// grant or a transaction (enrollment, claims, identify and payments too).

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/ledger"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/wallets"
)

// pageOf reads the limit and cursor query parameters of the listing the
// request calls; without a limit, the page size is the default its limit
// parameter states in the document (the request validator holds a given
// limit to its maximum).
func (s *Server) pageOf(ctx context.Context, limit *int, cursor *string) (int, string) {
	sizes := s.Spec.CommonPageSizes()
	if op := httpx.Operation(ctx); op != nil && op.PageSizes != nil {
		sizes = *op.PageSizes
	}
	l, c := sizes.Default, ""
	if limit != nil {
		l = *limit
	}
	if cursor != nil {
		c = *cursor
	}
	return l, c
}

// ledgerContext is the context recorded on the transactions a request
// causes: the envelope's context block, where a terminal JWT's terminal
// wins over a terminal_id in the body.
func ledgerContext(ctx context.Context, rc *api.RequestContext) ledger.Context {
	var out ledger.Context
	if rc != nil {
		out.TerminalID, out.LocationID, out.OperatorID = valueOf(rc.TerminalId), valueOf(rc.LocationId), valueOf(rc.OperatorId)
	}
	if t := principal(ctx).TerminalID; t != "" {
		out.TerminalID = t
	}
	return out
}

// callerOf names who guesses at credentials are counted against: the
// request's terminal (ledgerContext), its key and its merchant.
func callerOf(ctx context.Context, rc *api.RequestContext) identity.Caller {
	return identity.CallerOf(principal(ctx), ledgerContext(ctx, rc).TerminalID)
}

func apiBalance(b ledger.Balance) api.WalletBalance {
	return api.WalletBalance{
		Currency:            b.Currency,
		ActualMinor:         b.Actual,
		PromoAvailableMinor: b.PromoAvailable,
		PromoLockedMinor:    b.PromoLocked,
		SpendableMinor:      b.Spendable(),
		NextPromoExpiryAt:   b.NextPromoExpiryAt,
	}
}

func apiWallet(w wallets.Wallet) api.Wallet {
	return api.Wallet{
		Id:         w.ID,
		CustomerId: w.CustomerID,
		Currency:   w.Currency,
		Status:     api.WalletStatus(w.Status),
		Balance:    apiBalance(w.Balance),
		CreatedAt:  w.CreatedAt,
		VerifiedAt: w.VerifiedAt,
	}
}

func apiGrant(g grants.Grant) api.Grant {
	history := make([]api.GrantHistoryEntry, len(g.History))
	for i, e := range g.History {
		h := api.GrantHistoryEntry{At: e.At, ToState: api.GrantState(e.To), Reason: e.Reason, TransactionId: strOrNull(e.TransactionID)}
		if e.From != "" {
			from := api.GrantState(e.From)
			h.FromState = &from
		}
		history[i] = h
	}
	return api.Grant{
		Id:             g.ID,
		WalletId:       g.WalletID,
		CustomerId:     g.CustomerID,
		Source:         api.GrantSource(g.Source),
		SourceRef:      strOrNull(g.SourceRef),
		Currency:       g.Currency,
		OriginalMinor:  g.Original,
		RemainingMinor: g.Remaining,
		State:          api.GrantState(g.State),
		ExpiresAt:      g.ExpiresAt,
		CreatedAt:      g.CreatedAt,
		History:        history,
	}
}

func apiGrants(gs []grants.Grant) []api.Grant {
	out := make([]api.Grant, len(gs))
	for i, g := range gs {
		out[i] = apiGrant(g)
	}
	return out
}

func apiTransaction(t ledger.Transaction) api.Transaction {
	return api.Transaction{
		Id:               t.ID,
		Type:             api.TransactionType(t.Type),
		IntegrationId:    t.IntegrationID,
		CustomerId:       t.CustomerID,
		WalletId:         t.WalletID,
		Currency:         t.Currency,
		AmountMinor:      t.Amount,
		ActualDeltaMinor: t.ActualDelta,
		PromoDeltaMinor:  t.PromoDelta,
		BalanceAfter:     apiBalance(t.BalanceAfter),
		References: api.TransactionReferences{
			PaymentId:           strOrNull(t.References.PaymentID),
			GrantId:             strOrNull(t.References.GrantID),
			SettlementReference: strOrNull(t.References.SettlementReference),
			Provider:            strOrNull(t.References.Provider),
			SkuId:               strOrNull(t.References.SkuID),
		},
		Context: api.TransactionContext{
			TerminalId: strOrNull(t.Context.TerminalID),
			LocationId: strOrNull(t.Context.LocationID),
			OperatorId: strOrNull(t.Context.OperatorID),
		},
		CreatedAt: t.CreatedAt,
	}
}

func apiTransactionDetail(t ledger.Transaction) api.TransactionDetail {
	b := apiTransaction(t)
	entries := make([]api.LedgerEntry, len(t.Entries))
	for i, e := range t.Entries {
		entries[i] = api.LedgerEntry{Account: string(e.Account), AmountMinor: e.Amount, Currency: e.Currency}
	}
	return api.TransactionDetail{
		Id: b.Id, Type: b.Type, IntegrationId: b.IntegrationId, CustomerId: b.CustomerId, WalletId: b.WalletId,
		Currency: b.Currency, AmountMinor: b.AmountMinor, ActualDeltaMinor: b.ActualDeltaMinor,
		PromoDeltaMinor: b.PromoDeltaMinor, BalanceAfter: b.BalanceAfter, References: b.References,
		Context: b.Context, CreatedAt: b.CreatedAt, Entries: entries,
	}
}

func apiTopupResult(r topup.Result) api.TopupResult {
	out := api.TopupResult{Transaction: apiTransaction(r.Transaction), Wallet: apiWallet(r.Wallet)}
	if r.BonusGrant != nil {
		g := apiGrant(*r.BonusGrant)
		out.BonusGrant = &g
	}
	return out
}

func apiReloadBonusConfig(c topup.ReloadBonusConfig) api.ReloadBonusConfig {
	tiers := make([]api.ReloadBonusTier, len(c.Tiers))
	for i, t := range c.Tiers {
		tier := api.ReloadBonusTier{MinTopupMinor: t.MinTopup}
		if t.BonusBps > 0 {
			bps := int(t.BonusBps)
			tier.BonusBps = &bps
		}
		if t.BonusFixed > 0 {
			tier.BonusFixedMinor = &t.BonusFixed
		}
		if t.MaxBonus > 0 {
			tier.MaxBonusMinor = &t.MaxBonus
		}
		tiers[i] = tier
	}
	return api.ReloadBonusConfig{
		Currency: c.Currency, Version: c.Version, Tiers: tiers, BonusExpiresInDays: c.BonusExpiresInDays,
		Active: c.Active, CreatedAt: c.CreatedAt,
	}
}

func apiSku(s topup.Sku) api.Sku {
	return api.Sku{
		SkuId: s.SkuID, Currency: s.Currency, FaceValueMinor: s.FaceValue, BonusMinor: s.Bonus,
		BonusExpiresInDays: s.BonusExpiresInDays, Active: s.Active, UpdatedAt: s.UpdatedAt,
	}
}

// strOrNull is nil for "" (a JSON null), a pointer to s otherwise.
func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func valueOf[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
