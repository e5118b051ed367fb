package httpapi

// The event log's snapshots: RenderEvent is the events.Renderer app.New
// installs, so an event's data is the JSON this layer returns for the
// object, made by the same conversions as the operations' responses.

import (
	"encoding/json"
	"fmt"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/grants"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/topup"
)

// EventRenderer renders domain objects in the shape of apiVersion (the
// document's version: the one the server serves).
func EventRenderer(apiVersion string) events.Renderer {
	return func(t events.Type, object any) (string, []byte, error) {
		var v any
		switch o := object.(type) {
		case payments.Payment:
			v = apiPayment(o)
		case topup.Result:
			v = apiTopupResult(o)
		case grants.Grant:
			v = apiGrant(o)
		case enrollment.Release:
			v = apiWalletRelease(o)
		case auth.Key:
			v = apiKey(o)
		default:
			return "", nil, fmt.Errorf("no API shape for a %T (event %s)", object, t)
		}
		data, err := json.Marshal(v)
		return apiVersion, data, err
	}
}

func apiEvent(e events.Recorded) (api.Event, error) {
	out := api.Event{Id: e.ID, Type: api.EventType(e.Type), ApiVersion: e.APIVersion, CreatedAt: e.CreatedAt}
	if err := json.Unmarshal(e.Data, &out.Data); err != nil {
		return api.Event{}, fmt.Errorf("reading event %s: %w", e.ID, err)
	}
	return out, nil
}
