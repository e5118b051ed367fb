package httpapi

// Conversions between the payment, identity and checkout domains and the
// generated API types, shared by their operations.

import (
	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/payments"
)

func apiPayment(p payments.Payment) api.Payment {
	allocations := make([]api.GrantAllocation, len(p.Allocations))
	for i, a := range p.Allocations {
		allocations[i] = api.GrantAllocation{GrantId: a.GrantID, AmountMinor: a.Amount}
	}
	refunds := make([]api.Refund, len(p.Refunds))
	for i, r := range p.Refunds {
		refunds[i] = apiRefund(r)
	}
	refunded := p.Refunded()
	return api.Payment{
		Id:                     p.ID,
		Status:                 api.PaymentStatus(p.Status),
		Currency:               p.Currency,
		AmountMinor:            p.Amount,
		AuthorizedMinor:        p.Authorized(),
		CapturedMinor:          p.Captured(),
		PromoAppliedMinor:      p.PromoApplied,
		ActualAppliedMinor:     p.ActualApplied,
		Partial:                p.Partial(),
		Allocations:            allocations,
		BalanceAfter:           apiBalance(p.BalanceAfter),
		WalletId:               p.WalletID,
		CustomerId:             p.CustomerID,
		CaptureMode:            api.CaptureMode(p.CaptureMode),
		AuthorizationExpiresAt: p.AuthorizationExpiresAt,
		TerminalId:             strOrNull(p.Context.TerminalID),
		CheckoutSessionId:      strOrNull(p.CheckoutSessionID),
		Reference:              strOrNull(p.Reference),
		CreatedAt:              p.CreatedAt,
		UpdatedAt:              p.UpdatedAt,
		RefundedMinor:          &refunded,
		Refunds:                &refunds,
	}
}

func apiRefund(r payments.Refund) api.Refund {
	return api.Refund{
		Id:                  r.ID,
		PaymentId:           r.PaymentID,
		Currency:            r.BalanceAfter.Currency,
		AmountMinor:         r.Amount,
		ActualRefundedMinor: r.ActualRefunded,
		PromoRefundedMinor:  r.PromoRefunded,
		PromoForfeitedMinor: r.PromoForfeited,
		Reason:              r.Reason,
		Reference:           strOrNull(r.Reference),
		TransactionId:       r.TransactionID,
		BalanceAfter:        apiBalance(r.BalanceAfter),
		CreatedAt:           r.CreatedAt,
	}
}

func apiCustomerContext(c identity.CustomerContext) api.CustomerContext {
	accepted := make([]api.PaymentCredentialType, len(c.AcceptedPaymentCredentials))
	for i, a := range c.AcceptedPaymentCredentials {
		accepted[i] = api.PaymentCredentialType(a)
	}
	return api.CustomerContext{
		CustomerId:                 c.CustomerID,
		DisplayName:                strOrNull(c.DisplayName),
		MaskedPhone:                strOrNull(c.MaskedPhone),
		Badge:                      api.CustomerBadge(c.Badge),
		Wallet:                     apiWallet(c.Wallet),
		AcceptedPaymentCredentials: accepted,
	}
}

func apiCheckoutSession(s checkout.Session) api.CheckoutSession {
	out := api.CheckoutSession{
		Id:          s.ID,
		Status:      api.CheckoutSessionStatus(s.Status),
		Currency:    s.Currency,
		AmountMinor: s.AmountMinor,
		Reference:   strOrNull(s.Reference),
		PaymentId:   strOrNull(s.PaymentID),
		ExpiresAt:   s.ExpiresAt,
		CreatedAt:   s.CreatedAt,
	}
	if s.Customer != nil {
		c := apiCustomerContext(*s.Customer)
		out.Customer = &c
	}
	return out
}

func identityCredential(c api.IdentifyCredential) identity.Credential {
	return identity.Credential{Type: identity.CredentialType(c.Type), Value: c.Value}
}
