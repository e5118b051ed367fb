package httpapi

// Conversions of the webhooks domain to the generated API types.

import (
	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/webhooks"
)

func apiWebhookEndpoint(e webhooks.Endpoint) api.WebhookEndpoint {
	types := make([]api.EventType, len(e.EventTypes))
	for i, t := range e.EventTypes {
		types[i] = api.EventType(t)
	}
	return api.WebhookEndpoint{
		Id: e.ID, Url: e.URL, EventTypes: types, Description: strOrNull(e.Description),
		Status: api.WebhookEndpointStatus(e.Status), FailingSince: e.FailingSince, DisabledAt: e.DisabledAt,
		PreviousSecretExpiresAt: e.PreviousSecretExpiresAt, CreatedAt: e.CreatedAt,
	}
}

// apiWebhookEndpointWithSecret carries the secret once: the idempotency
// store keeps the response with secret nulled and secret_redacted set.
func apiWebhookEndpointWithSecret(e webhooks.WithSecret) api.WebhookEndpointWithSecret {
	secret := e.Secret
	return api.WebhookEndpointWithSecret{Endpoint: apiWebhookEndpoint(e.Endpoint), Secret: &secret, SecretRedacted: false}
}

func apiWebhookDelivery(d webhooks.Delivery) api.WebhookDelivery {
	return api.WebhookDelivery{
		Id: d.ID, EventId: d.EventID, Attempt: d.Attempt, StatusCode: d.StatusCode, LatencyMs: d.LatencyMS,
		Succeeded: d.Succeeded, Error: strOrNull(d.Error), AttemptedAt: d.AttemptedAt,
	}
}
