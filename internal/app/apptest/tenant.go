package apptest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/feddi/partner-api/gen/client"
)

// APIVersion is the contract version the tests pin.
const APIVersion = "2026-06-01"

// Tenant is a bootstrapped merchant and integration with a key holding every
// scope and role operator.
type Tenant struct {
	MerchantID    string
	IntegrationID string
	KeyID         string
	APIKey        string
}

// Bootstrap creates a merchant, an integration and an admin key, as
// `feddi bootstrap` does.
func (s *Server) Bootstrap(t testing.TB, merchant string) Tenant {
	t.Helper()
	boot, err := s.App.Server.Auth.Bootstrap(context.Background(), merchant, merchant+" POS")
	if err != nil {
		t.Fatalf("bootstrapping %s: %v", merchant, err)
	}
	return Tenant{
		MerchantID:    boot.Merchant.ID,
		IntegrationID: boot.Integration.ID,
		KeyID:         boot.Key.Key.ID,
		APIKey:        boot.Key.Secret,
	}
}

// WithKey authenticates a generated-client call with an API key.
func WithKey(key string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Api-Key", key)
		return nil
	}
}

// WithBearer authenticates a generated-client call with a terminal JWT.
func WithBearer(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

var keyCounter atomic.Int64

// NewIdempotencyKey returns a key no other call of this process used.
func NewIdempotencyKey() string { return fmt.Sprintf("test-%d", keyCounter.Add(1)) }

// Meta is the request meta block every POST sends.
func Meta() client.RequestMeta { return client.RequestMeta{ApiVersion: APIVersion} }
