package httpapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

func loadDocument(t *testing.T) *spec.Spec {
	t.Helper()
	doc, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	return doc
}

func TestRequireOwnIntegration(t *testing.T) {
	t.Parallel()
	s := &Server{}
	own := "int_01JWRVMKVZAP2GK3N8N7HKA9F0"
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{IntegrationID: own})

	t.Run("AcceptsTheCallersIntegration", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, s.requireOwnIntegration(ctx, own))
	})
	t.Run("AnswersAnotherIntegrationAsNotFound", func(t *testing.T) {
		t.Parallel()
		err := s.requireOwnIntegration(ctx, "int_01JWRVMKVZAP2GK3N8N7HKA9F1")
		mapped, ok := MapError(err)
		require.True(t, ok)
		require.Equal(t, "not_found", string(mapped.Code))
	})
	t.Run("AnswersAnUnauthenticatedContextAsNotFound", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, s.requireOwnIntegration(context.Background(), own), auth.ErrNotFound)
	})
}

func TestAccessComesFromTheDocument(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	op := func(id string) *spec.Operation {
		o, ok := doc.ByID(id)
		require.True(t, ok, id)
		return o
	}

	t.Run("OnlyTokenValidationInspectsTheBearerToken", func(t *testing.T) {
		t.Parallel()
		var inspecting []string
		for _, o := range doc.Operations() {
			if inspectsBearerToken(o) {
				inspecting = append(inspecting, o.ID)
			}
		}
		require.Equal(t, []string{"validateTerminalToken"}, inspecting)
	})
	t.Run("KeyManagementTakesAnAPIKeyWithKeysManage", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{"createApiKey", "listApiKeys", "revokeApiKey", "regenerateApiKey", "deleteApiKey"} {
			a, err := accessOf(op(id), config.Sandbox)
			require.NoError(t, err)
			require.Equal(t, map[auth.Kind][]string{auth.KindAPIKey: {"keys:manage"}}, a.Accepts, id)
			require.True(t, a.Switchable)
		}
	})
	t.Run("ClawbackNeedsAnOperator", func(t *testing.T) {
		t.Parallel()
		a, err := accessOf(op("clawbackGrant"), config.Sandbox)
		require.NoError(t, err)
		require.Equal(t, auth.RoleOperator, a.RequiredRole)
		require.NotContains(t, a.Accepts, auth.KindTerminalJWT)
	})
	t.Run("SandboxHelpersAreUnavailableInLive", func(t *testing.T) {
		t.Parallel()
		sandbox, err := accessOf(op("listSandboxMessages"), config.Sandbox)
		require.NoError(t, err)
		require.False(t, sandbox.Unavailable)
		live, err := accessOf(op("listSandboxMessages"), config.Live)
		require.NoError(t, err)
		require.True(t, live.Unavailable)
	})
	t.Run("EveryOperationAnsweringOperationNotEnabledCanBeSwitchedOff", func(t *testing.T) {
		t.Parallel()
		a, err := accessOf(op("getCapabilities"), config.Sandbox)
		require.NoError(t, err)
		require.False(t, a.Switchable, "capabilities never answers operation_not_enabled")
	})
	t.Run("FeatureFlagsNameRealOperations", func(t *testing.T) {
		t.Parallel()
		op("createCheckoutSession")
		op("listSandboxMessages")
	})
}
