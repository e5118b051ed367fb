package httpapi

import (
	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
)

// Conversions between the auth domain's types and the generated ones,
// shared by the auth operations.

func apiKey(k auth.Key) api.ApiKey {
	return api.ApiKey{
		Id:         k.ID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Scopes:     apiScopes(k.Scopes),
		Role:       api.ApiKeyRole(k.Role),
		Status:     api.ApiKeyStatus(k.Status),
		CreatedAt:  k.CreatedAt,
		LastUsedAt: k.LastUsedAt,
		ExpiresAt:  k.ExpiresAt,
		RevokedAt:  k.RevokedAt,
	}
}

// apiKeyWithSecret shows the raw key. The idempotency layer stores the
// response with api_key nulled and secret_redacted set, so a replay never
// shows it again.
func apiKeyWithSecret(k auth.IssuedKey) api.ApiKeyWithSecret {
	secret := k.Secret
	return api.ApiKeyWithSecret{Key: apiKey(k.Key), ApiKey: &secret, SecretRedacted: false}
}

func apiScopes(scopes []string) []api.Scope {
	out := make([]api.Scope, len(scopes))
	for i, s := range scopes {
		out[i] = api.Scope(s)
	}
	return out
}

func domainScopes(scopes []api.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}
