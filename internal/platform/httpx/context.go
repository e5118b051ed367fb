// Package httpx holds the HTTP conventions every operation shares, driven by
// the OpenAPI document: request ids, the response envelope, the error
// handler, body limits, request validation, API version pinning, and the
// idempotency layer. Handlers see none of it.
package httpx

import (
	"context"

	"github.com/feddi/partner-api/internal/platform/spec"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyOperation
	keyIdempotencyKey
	keyBody
	keyOutcome
)

// RequestID is the id of the request being served.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

// Operation is the document operation being served, nil when no route matched.
func Operation(ctx context.Context) *spec.Operation {
	o, _ := ctx.Value(keyOperation).(*spec.Operation)
	return o
}

// IdempotencyKey is the Idempotency-Key the request carries, if any.
func IdempotencyKey(ctx context.Context) string {
	s, _ := ctx.Value(keyIdempotencyKey).(string)
	return s
}

func withValue(ctx context.Context, k ctxKey, v any) context.Context {
	return context.WithValue(ctx, k, v)
}
