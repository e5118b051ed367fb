package httpapi_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/docsui"
	"github.com/feddi/partner-api/internal/app/apptest"
)

// TestDocsPageServed checks GET /docs without a browser: one HTML page
// carrying the renderer and the document, under a policy that allows no
// other origin. (apptest holds the response to the document.)
func TestDocsPageServed(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	res, err := http.Get(s.URL + "/docs")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())

	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/html", res.Header.Get("Content-Type"))
	csp := res.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.NotContains(t, csp, "http")
	page := string(body)
	require.Contains(t, page, "<title>Feddi Partner API reference</title>")
	// Not require.Contains: on failure it would print the 1.5 MB page.
	require.True(t, strings.Contains(page, "<script>"+string(docsui.RedocStandalone[:300])), "the embedded Redoc bundle, inline")
	require.True(t, strings.Contains(page, string(s.App.Spec.JSON[:300])), "the document, as GET /openapi serves it in JSON")
	require.False(t, regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//`).MatchString(page), "nothing loaded from elsewhere")
}
