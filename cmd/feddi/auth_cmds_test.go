package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/config"
)

func TestPrintBootstrap(t *testing.T) {
	t.Parallel()
	out := auth.Bootstrapped{
		Merchant:    auth.Merchant{ID: "mer_01JWRE50E1W5M9R0BDM49CMM0T", Name: "Demo Merchant"},
		Integration: auth.Integration{ID: "int_01JWRVMKVZAP2GK3N8N7HKA9F0", Name: "Demo POS"},
		Key:         auth.IssuedKey{Key: auth.Key{ID: "key_01JWR61VGMSZRJ1DM74VBFJCPD"}, Secret: "fk_test_secret"},
	}
	cfg := config.Defaults()

	t.Run("JSONIsOneObjectWithTheFourFields", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		require.NoError(t, printBootstrap(&buf, cfg, out, true, true))
		var got map[string]string
		require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
		require.Equal(t, map[string]string{
			"merchant_id": out.Merchant.ID, "integration_id": out.Integration.ID,
			"key_id": out.Key.Key.ID, "api_key": "fk_test_secret",
		}, got)
	})
	t.Run("TextShowsTheKeyAndACurlLine", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		require.NoError(t, printBootstrap(&buf, cfg, out, true, false))
		require.Contains(t, buf.String(), "curl -s -H 'X-Api-Key: fk_test_secret' http://127.0.0.1:8080/capabilities")
	})
	t.Run("SaysSoWhenNothingWasCreated", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		require.NoError(t, printBootstrap(&buf, cfg, auth.Bootstrapped{}, false, false))
		require.Contains(t, buf.String(), "nothing created")
		require.NotContains(t, buf.String(), "fk_test_")
	})
}
