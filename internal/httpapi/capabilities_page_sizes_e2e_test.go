package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// TestCapabilitiesReportEachListingsPageSizes holds GET /capabilities to
// the document: every operation with a limit query parameter, and only
// those, reports page_size, that parameter's default and maximum (read
// here straight from kin-openapi, not through spec); limits'
// page_size_default and page_size_max are the shared Limit parameter's.
func TestCapabilitiesReportEachListingsPageSizes(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t)
	res := e.capabilities(t, withKey(e.admin))
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	require.NoError(t, err)
	sizesOf := func(p *openapi3.Parameter) client.PageSizeLimits {
		t.Helper()
		def, ok := p.Schema.Value.Default.(float64)
		require.True(t, ok, "%s has no default", p.Name)
		require.NotNil(t, p.Schema.Value.Max, "%s has no maximum", p.Name)
		return client.PageSizeLimits{Default: int(def), Max: int(*p.Schema.Value.Max)}
	}
	want := map[string]client.PageSizeLimits{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, ref := range slices.Concat(item.Parameters, op.Parameters) {
				if ref.Value.In == openapi3.ParameterInQuery && ref.Value.Name == spec.LimitParameter {
					want[op.OperationID] = sizesOf(ref.Value)
				}
			}
		}
	}
	require.Len(t, want, 8, "the eight listings")
	got := map[string]client.PageSizeLimits{}
	for _, op := range res.JSON200.Data.Operations {
		if op.PageSize != nil {
			got[op.OperationId] = *op.PageSize
		}
	}
	require.Equal(t, want, got)

	common := sizesOf(doc.Components.Parameters["Limit"].Value)
	require.Equal(t, common.Default, res.JSON200.Data.Limits.PageSizeDefault)
	require.Equal(t, common.Max, res.JSON200.Data.Limits.PageSizeMax)
}
