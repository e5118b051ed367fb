package httpapi

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"

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
	ops, err := operationsInDocumentOrder(s.Spec)
	if err != nil {
		return api.CapabilitiesData{}, err
	}
	data := api.CapabilitiesData{
		ApiVersion:    s.Spec.APIVersion,
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
			PageSizeDefault:           auth.DefaultPageSize,
			PageSizeMax:               auth.MaxPageSize,
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

// documentOrders caches, per loaded document, each operation's position in
// the YAML text (the spec package indexes operations by path instead).
var documentOrders sync.Map // *spec.Spec → []*spec.Operation

func operationsInDocumentOrder(doc *spec.Spec) ([]*spec.Operation, error) {
	if ops, ok := documentOrders.Load(doc); ok {
		return ops.([]*spec.Operation), nil
	}
	position, err := operationPositions(doc.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading the document's operation order: %w", err)
	}
	ops := slices.Clone(doc.Operations())
	sort.SliceStable(ops, func(i, j int) bool { return position[ops[i].ID] < position[ops[j].ID] })
	actual, _ := documentOrders.LoadOrStore(doc, ops)
	return actual.([]*spec.Operation), nil
}

// operationPositions numbers the operationIds in the order the YAML text
// lists them.
func operationPositions(raw []byte) (map[string]int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, err
	}
	position := map[string]int{}
	if len(root.Content) == 0 {
		return position, nil
	}
	paths := mappingValue(root.Content[0], "paths")
	if paths == nil {
		return position, nil
	}
	for i := 1; i < len(paths.Content); i += 2 {
		item := paths.Content[i]
		for j := 1; j < len(item.Content); j += 2 {
			if id := mappingValue(item.Content[j], "operationId"); id != nil {
				position[id.Value] = len(position)
			}
		}
	}
	return position, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
