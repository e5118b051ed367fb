package auth

import (
	"slices"
	"strings"
)

// Access is what one operation demands of a caller, as the document states
// it: the credential kinds it accepts with the scopes each must hold, and a
// role. The HTTP layer builds it from the operation's security
// requirements, so no scope list is written by hand.
type Access struct {
	OperationID string
	// Accepts maps every credential kind the operation takes to the scopes
	// that credential must hold (all of them).
	Accepts map[Kind][]string
	// RequiredRole, when set, is the role the key must have.
	RequiredRole Role
	// Switchable says the operation can be turned off for an integration
	// (its documented errors include operation_not_enabled).
	Switchable bool
	// Unavailable says the operation is not served in this environment
	// (a sandbox helper in live).
	Unavailable bool
}

// Authorize says whether p may call the operation: it must be enabled for
// the integration, take p's kind of credential, and p must hold every scope
// and the role it needs. The error says what is missing.
func Authorize(p Principal, a Access) error {
	if a.Unavailable {
		return deny(ErrOperationNotEnabled, "%s is not available in this environment", a.OperationID)
	}
	if a.Switchable && slices.Contains(p.DisabledOperations, a.OperationID) {
		return deny(ErrOperationNotEnabled, "%s is not enabled for integration %s", a.OperationID, p.IntegrationID)
	}
	scopes, ok := a.Accepts[p.Kind]
	if !ok {
		return deny(ErrForbidden, "%s does not accept %s; call it with %s", a.OperationID, kindName(p.Kind), acceptedKinds(a))
	}
	if missing := missingScopes(p.Scopes, scopes); len(missing) > 0 {
		e := deny(ErrForbidden, "%s needs the scope %s, which this credential does not hold", a.OperationID, strings.Join(missing, " and "))
		e.details = map[string]any{"required_scopes": scopes, "missing_scopes": missing}
		return e
	}
	if a.RequiredRole != "" && p.Role != a.RequiredRole {
		e := deny(ErrForbidden, "%s needs an API key with role %s", a.OperationID, a.RequiredRole)
		e.details = map[string]any{"required_role": string(a.RequiredRole)}
		return e
	}
	return nil
}

func kindName(k Kind) string {
	if k == KindTerminalJWT {
		return "a terminal token"
	}
	return "an API key"
}

func acceptedKinds(a Access) string {
	var names []string
	for _, k := range []Kind{KindAPIKey, KindTerminalJWT} {
		if _, ok := a.Accepts[k]; ok {
			names = append(names, kindName(k))
		}
	}
	if len(names) == 0 {
		return "no credential"
	}
	return strings.Join(names, " or ")
}

// RequireIntegration checks that a path's integration is the caller's own.
// Another integration's is reported exactly as one that does not exist, so
// a path never reveals whether an id is real.
func RequireIntegration(p Principal, integrationID string) error {
	if p.IntegrationID == "" || p.IntegrationID != integrationID {
		return deny(ErrNotFound, "no integration %s", integrationID)
	}
	return nil
}
