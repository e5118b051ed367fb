package httpapi

import (
	"fmt"
	"slices"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/money"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/httpx"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// capabilities computes GET /capabilities for one caller from the embedded
// document, so it cannot drift from it: every operation with its stability,
// scopes, credential kinds and whether THIS caller may use it (the same
// rules authenticate applies), the served currencies, credential types,
// features and limits.
func (s *Server) capabilities(p auth.Principal) (api.CapabilitiesData, error) {
	ops := s.Spec.OperationsInDocumentOrder()
	data := api.CapabilitiesData{
		ApiVersion:    api.ApiVersion(s.Spec.APIVersion),
		Environment:   api.Environment(s.Config.Env),
		MerchantId:    p.MerchantID,
		IntegrationId: p.IntegrationID,
		Credential: api.CapabilitiesCredential{
			Kind:  api.CredentialKind(p.Kind),
			KeyId: p.KeyID,
			Role:  api.ApiKeyRole(p.Role),
		},
		Scopes:     apiScopes(p.Scopes),
		Operations: make([]api.CapabilitiesOperation, 0, len(ops)),
		CredentialTypes: api.CredentialTypes{
			Identify: enumOf[api.IdentifyCredentialType](s.Spec, "IdentifyCredentialType"),
			Payment:  enumOf[api.PaymentCredentialType](s.Spec, "PaymentCredentialType"),
		},
		Features: api.FeatureFlags{
			SandboxMessages:      s.Config.Env == config.Sandbox,
			CheckoutSessions:     !slices.Contains(p.DisabledOperations, "createCheckoutSession"),
			PartialAuthorization: true,
		},
		Limits: api.CapabilitiesLimits{
			TerminalTokenTtlSeconds:   int(auth.TokenTTL.Seconds()),
			IdempotencyRetentionHours: max(1, int(s.Config.IdempotencyRetention.Hours())),
			PageSizeDefault:           s.Spec.CommonPageSizes().Default,
			PageSizeMax:               s.Spec.CommonPageSizes().Max,
			AmountMaxMinor:            money.MaxAmountMinor,
			RequestBodyMaxBytes:       httpx.MaxBodyBytes,
		},
	}
	if p.Kind == auth.KindTerminalJWT {
		data.Credential.TerminalId = &p.TerminalID
	}
	for _, c := range money.Currencies() {
		data.Currencies = append(data.Currencies, api.CurrencyInfo{Code: c.Code, Exponent: c.Exponent})
	}
	for _, op := range ops {
		access, err := accessOf(op, s.Config.Env)
		if err != nil {
			return api.CapabilitiesData{}, err
		}
		entry := api.CapabilitiesOperation{
			OperationId:     op.ID,
			Method:          api.HttpMethod(op.Method),
			Path:            op.Path,
			Stability:       api.Stability(op.Stability),
			RequiredScopes:  []api.Scope{},
			CredentialKinds: []api.CredentialKind{},
			Enabled:         !access.Unavailable,
		}
		for _, req := range op.Security {
			entry.CredentialKinds = append(entry.CredentialKinds, api.CredentialKind(kindOfScheme[req.Scheme]))
			for _, sc := range req.Scopes {
				if !slices.Contains(entry.RequiredScopes, api.Scope(sc)) {
					entry.RequiredScopes = append(entry.RequiredScopes, api.Scope(sc))
				}
			}
		}
		if op.Authenticated() {
			entry.Enabled = auth.Authorize(p, access) == nil
		}
		if op.PageSizes != nil {
			entry.PageSize = &api.PageSizeLimits{Default: op.PageSizes.Default, Max: op.PageSizes.Max}
		}
		data.Operations = append(data.Operations, entry)
	}
	return data, nil
}

// enumOf reads the values of an enum schema of the document.
func enumOf[T ~string](doc *spec.Spec, schema string) []T {
	out := []T{}
	ref := doc.Doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return out
	}
	for _, v := range ref.Value.Enum {
		out = append(out, T(fmt.Sprint(v)))
	}
	return out
}
