package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/openapi"
)

func TestHealth(t *testing.T) {
	t.Parallel()

	t.Run("OkWhenTheDatabaseAnswers", func(t *testing.T) {
		t.Parallel()
		s := apptest.Start(t)
		res, err := s.Client.GetHealthWithResponse(context.Background(), &client.GetHealthParams{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.True(t, bool(res.JSON200.Ok))
		require.Equal(t, client.HealthStatusOk, res.JSON200.Data.Status)
		require.Empty(t, res.JSON200.Data.DegradedSubsystems)
	})

	t.Run("DownWhenTheDatabaseIsGone", func(t *testing.T) {
		t.Parallel()
		s := apptest.Start(t)
		s.Pool.Close()
		res, err := s.Client.GetHealthWithResponse(context.Background(), &client.GetHealthParams{})
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode())
		require.Equal(t, client.ErrorCodeServiceUnavailable, res.JSON503.Error.Code)
		require.True(t, res.JSON503.Error.Retryable)
		require.Equal(t, []any{"database"}, (*res.JSON503.Error.Details)["degraded_subsystems"])
	})
}

func TestOpenapiDocument(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)

	get := func(t *testing.T, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.URL+"/openapi", nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res := s.Do(t, req)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, body
	}

	t.Run("ServesTheEmbeddedBytesExactly", func(t *testing.T) {
		res, body := get(t, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
		require.Equal(t, openapi.Document, body)
		var doc struct {
			OpenAPI string `yaml:"openapi"`
		}
		require.NoError(t, yaml.Unmarshal(body, &doc))
		require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1."))
	})

	t.Run("ServesJSONWhenAsked", func(t *testing.T) {
		res, body := get(t, map[string]string{"Accept": "application/json"})
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "application/json", res.Header.Get("Content-Type"))
		var fromJSON, fromYAML any
		require.NoError(t, json.Unmarshal(body, &fromJSON))
		require.NoError(t, yaml.Unmarshal(openapi.Document, &fromYAML))
		roundTrip, err := json.Marshal(fromYAML)
		require.NoError(t, err)
		require.JSONEq(t, string(roundTrip), string(body))
	})

	t.Run("AnswersNotModifiedForItsETag", func(t *testing.T) {
		res, _ := get(t, nil)
		tag := res.Header.Get("ETag")
		require.NotEmpty(t, tag)
		res, body := get(t, map[string]string{"If-None-Match": tag})
		require.Equal(t, http.StatusNotModified, res.StatusCode)
		require.Empty(t, body)
		res, _ = get(t, map[string]string{"If-None-Match": `"stale"`})
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
}

func TestEveryDocumentedOperationIsRoutedAndNothingElse(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	var documented, routed []string
	for _, op := range s.App.Spec.Operations() {
		documented = append(documented, op.Method+" "+op.EchoPath)
	}
	for _, r := range s.App.Handler.Routes() {
		routed = append(routed, r.Method+" "+r.Path)
	}
	sort.Strings(documented)
	sort.Strings(routed)
	require.Equal(t, documented, routed)
}
