// Package httpapi implements the generated strict server interface. Each
// operation lives in its own small file: it converts the generated request
// into a domain call and the result into the generated response. Rules live
// in the domains; conventions live in internal/platform/httpx.
package httpapi

import (
	"context"
	"time"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/idempotency"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/webhooks"
)

// Deps are the services the handlers call.
type Deps struct {
	Config config.Config
	Spec   *spec.Spec
	Health HealthChecker
	// Idempotency stores the results of keyed mutating requests.
	Idempotency *idempotency.Store
	Auth        *auth.Service
	// Money: top-ups and their catalog, promotional grants, the ledger's
	// transactions.
	Topup        *topup.Service
	Grants       *grants.Service
	Transactions *transactions.Service
	// Payments, identify, checkout sessions and wallet QR codes.
	Payments *payments.Service
	Identity *identity.Service
	Checkout *checkout.Service
	QR       *qr.Service
	// Enrollment (initiate, verify, resend, claims) and the sandbox's SMS
	// read-back.
	Enrollment      *enrollment.Service
	SandboxMessages *sms.Inbox
	// Events reads the event log.
	Events *events.Service
	// Webhooks manages the endpoints that receive events.
	Webhooks *webhooks.Service
	// Now is the service clock (the health check's checked_at).
	Now func() time.Time
}

// HealthChecker reports the impaired subsystems; a database failure means down.
type HealthChecker interface {
	Check(ctx context.Context) (databaseUp bool, degraded []string)
}

// Server implements every operation of the document.
type Server struct {
	Deps
	openapi openapiDocument
	docs    *docsPage
}

var _ api.StrictServerInterface = (*Server)(nil)

// NewServer returns the server over its dependencies.
func NewServer(deps Deps) *Server {
	return &Server{Deps: deps, openapi: newOpenapiDocument(deps.Spec.Bytes, deps.Spec.JSON), docs: &docsPage{}}
}

// meta is the meta block of a success envelope.
func (s *Server) meta(ctx context.Context) api.ResponseMeta {
	m := httpx.MetaFor(ctx, s.Spec.APIVersion)
	return api.ResponseMeta{
		ApiVersion:       api.ApiVersion(m.APIVersion),
		RequestId:        m.RequestID,
		IdempotencyKey:   m.IdempotencyKey,
		IdempotentReplay: m.IdempotentReplay,
	}
}
