package httpapi

// Conversions between the enrollment and sms domains and the generated API
// types, shared by the enrollment, claims and sandbox operations.

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/sms"
)

// enrollmentCaller is the tenant of the request and the context its ledger
// transactions record.
func enrollmentCaller(ctx context.Context, rc *api.RequestContext) enrollment.Caller {
	p := principal(ctx)
	return enrollment.Caller{MerchantID: p.MerchantID, IntegrationID: p.IntegrationID, Context: ledgerContext(ctx, rc)}
}

func apiVerificationState(s enrollment.State) api.VerificationState {
	return api.VerificationState{
		VerificationId:    s.VerificationID,
		ExpiresAt:         s.ExpiresAt.UTC(),
		AttemptsRemaining: s.AttemptsRemaining,
		ResendsRemaining:  s.ResendsRemaining,
		ResendAvailableAt: s.ResendAvailableAt.UTC(),
	}
}

func apiWalletRelease(r enrollment.Release) api.WalletRelease {
	return api.WalletRelease{Wallet: apiWallet(r.Wallet), ReleasedGrants: apiGrants(r.Released)}
}

func apiSandboxMessage(m sms.SandboxMessage) api.SandboxMessage {
	out := api.SandboxMessage{Id: m.ID, Phone: m.Phone, Kind: api.SandboxMessageKind(m.Kind), Body: m.Body, CreatedAt: m.CreatedAt.UTC()}
	if m.DeliveredAt != nil {
		t := m.DeliveredAt.UTC()
		out.DeliveredAt = &t
	}
	return out
}
