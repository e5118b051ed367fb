package httpx

import (
	"context"
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
)

// Meta is the meta block of every response envelope.
type Meta struct {
	APIVersion       string  `json:"api_version"`
	RequestID        string  `json:"request_id"`
	IdempotencyKey   *string `json:"idempotency_key"`
	IdempotentReplay bool    `json:"idempotent_replay"`
}

// MetaFor returns the meta block of the request in ctx.
func MetaFor(ctx context.Context, apiVersion string) Meta {
	m := Meta{APIVersion: apiVersion, RequestID: RequestID(ctx)}
	if k := IdempotencyKey(ctx); k != "" {
		m.IdempotencyKey = &k
	}
	return m
}

type errorBody struct {
	Code      apierror.Code  `json:"code"`
	Message   string         `json:"message"`
	Retryable bool           `json:"retryable"`
	Field     *string        `json:"field"`
	Details   map[string]any `json:"details"`
}

type errorEnvelope struct {
	OK    bool      `json:"ok"`
	Data  *struct{} `json:"data"`
	Error errorBody `json:"error"`
	Meta  Meta      `json:"meta"`
}

func writeError(c echo.Context, apiVersion string, e *apierror.Error) error {
	body := errorBody{Code: e.Code, Message: e.Message, Retryable: e.Code.Retryable(), Details: e.Details}
	if e.Field != "" {
		body.Field = &e.Field
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	raw, err := json.Marshal(errorEnvelope{Error: body, Meta: MetaFor(c.Request().Context(), apiVersion)})
	if err != nil {
		return err
	}
	return c.JSONBlob(e.Code.Status(), raw)
}

// ContentTypeJSON is the media type of every envelope.
const ContentTypeJSON = "application/json"
