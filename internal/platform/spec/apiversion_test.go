package spec_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The server serves exactly one version, info.version (spec.APIVersion, what
// pinVersion compares against). The document's ApiVersion enum is that closed
// set, and every place a client names a version uses it, so a generated client
// or a fuzzer only ever sends a version the server answers.
func TestAPIVersionEnumIsTheServedSet(t *testing.T) {
	t.Parallel()
	s := load(t)
	served := []any{s.APIVersion}

	schema := s.Doc.Components.Schemas["ApiVersion"]
	require.NotNil(t, schema)
	require.Equal(t, served, schema.Value.Enum, "components.schemas.ApiVersion enum")

	header := s.Doc.Components.Parameters["ApiVersionHeader"]
	require.NotNil(t, header)
	require.Equal(t, "Feddi-Api-Version", header.Value.Name)
	require.Equal(t, served, header.Value.Schema.Value.Enum, "the Feddi-Api-Version header")

	for _, name := range []string{"RequestMeta", "ResponseMeta"} {
		meta := s.Doc.Components.Schemas[name]
		require.NotNil(t, meta, name)
		require.Equal(t, served, meta.Value.Properties["api_version"].Value.Enum, "%s.api_version", name)
	}

	for _, op := range s.Operations() {
		for _, p := range op.Op.Parameters {
			if p.Value.In == "header" && p.Value.Name == "Feddi-Api-Version" {
				require.Equal(t, served, p.Value.Schema.Value.Enum, "%s Feddi-Api-Version", op.ID)
			}
		}
	}
}
