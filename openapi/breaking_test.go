package openapi_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/feddi/partner-api/openapi"
)

// TestBreakingChangeGuard runs breaking.sh, the very command `make verify`
// runs, on the served document and on copies of it changed on purpose: the
// additive changes the API makes within a version must pass, and each kind
// of break must fail with oasdiff naming it. The copies are edited in the
// parsed tree and found by operation, not by component name, so the test
// keeps working when components are renamed.
func TestBreakingChangeGuard(t *testing.T) {
	t.Parallel()

	// What this test runs is what make verify runs: the Makefile calls the
	// script, and the script holds the flags.
	t.Run("IsWhatMakeVerifyRuns", func(t *testing.T) {
		t.Parallel()
		makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
		require.NoError(t, err)
		_, recipe, found := strings.Cut(string(makefile), "\nverify: ")
		require.True(t, found, "no verify target in the Makefile")
		recipe, _, _ = strings.Cut(recipe, "\n\n")
		require.Contains(t, recipe, "bash openapi/breaking.sh ||", "make verify no longer runs openapi/breaking.sh")
	})

	t.Run("PassesOnTheServedDocument", func(t *testing.T) {
		t.Parallel()
		out, code := runBreakingGuard(t, "")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "breaking: openapi/released/2026-06-01.yaml (released) against openapi/openapi.yaml", out)
	})

	// What the API does within a version: new optional fields, new
	// operations, links, and component schemas renamed with the same content
	// (component names are not part of the wire contract).
	t.Run("PassesAdditiveChanges", func(t *testing.T) {
		t.Parallel()
		doc := parseDocument(t)
		addProperty(t, paymentOf(t, doc), "tip_minor", "{type: integer, format: int64, minimum: 0}", false)
		addProperty(t, createPaymentData(t, doc), "tip_minor", "{type: integer, format: int64, minimum: 0}", false)
		setKey(t, lookup(t, doc, doc, "paths"), "/reference", `
get:
  operationId: getReference
  summary: Interactive API reference
  tags: [platform]
  security: []
  responses:
    '200':
      description: The reference page.
      content:
        text/html:
          schema: {type: string}
`)
		createdPayment := lookup(t, doc, doc, "paths", "/payments", "post", "responses", "200")
		if mapValue(createdPayment, "links") == nil {
			setKey(t, createdPayment, "links", "{}")
		}
		setKey(t, mapValue(createdPayment, "links"), "ProbeGetPayment", `
operationId: getPayment
parameters:
  id: $response.body#/data/id
`)
		for _, old := range []string{
			schemaRefName(t, doc, "paths", "/payments", "post", "requestBody", "content", "application/json", "schema"),
			schemaRefName(t, doc, "paths", "/payments", "post", "responses", "200", "content", "application/json", "schema"),
			schemaRefName(t, doc, "paths", "/payments/{id}", "get", "responses", "200", "content", "application/json", "schema", "properties", "data"),
		} {
			renameSchema(t, doc, old, old+"Renamed")
		}

		out, code := runBreakingGuard(t, writeDocument(t, doc))
		require.Equal(t, 0, code, out)
		// oasdiff saw the edits (an identical copy reports "No changes detected").
		require.Contains(t, out, "No breaking changes to report, but the specs are different", out)
	})

	// A response enum that loses a value only narrows what a client
	// receives: not a break, whatever the value meant.
	t.Run("PassesAResponseEnumThatLosesAValue", func(t *testing.T) {
		t.Parallel()
		doc := parseDocument(t)
		removeEnumValue(t, lookup(t, doc, paymentOf(t, doc), "properties", "status"), "expired")
		out, code := runBreakingGuard(t, writeDocument(t, doc))
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "the specs are different", out)
	})

	breaks := []struct {
		name string
		edit func(t *testing.T, doc *yaml.Node)
		want []string // what oasdiff prints: the rule and the operation
	}{
		{
			name: "FailsWhenAnOperationIsRemoved",
			edit: func(t *testing.T, doc *yaml.Node) {
				deleteKey(t, lookup(t, doc, doc, "paths"), "/payments/{id}")
			},
			want: []string{"[api-path-removed-without-deprecation]", "in API GET /payments/{id}"},
		},
		{
			name: "FailsWhenARequiredRequestPropertyIsAdded",
			edit: func(t *testing.T, doc *yaml.Node) {
				addProperty(t, createPaymentData(t, doc), "till_note", "{type: string, maxLength: 64}", true)
			},
			want: []string{"[new-required-request-property]", "in API POST /payments", "`data/till_note`"},
		},
		{
			name: "FailsWhenAResponsePropertyIsRemoved",
			edit: func(t *testing.T, doc *yaml.Node) {
				removeProperty(t, paymentOf(t, doc), "authorized_minor")
			},
			want: []string{"[response-required-property-removed]", "in API GET /payments/{id}", "`data/authorized_minor`"},
		},
		{
			name: "FailsWhenARequestEnumLosesAValue",
			edit: func(t *testing.T, doc *yaml.Node) {
				removeEnumValue(t, lookup(t, doc, createPaymentData(t, doc), "properties", "capture"), "manual")
			},
			want: []string{"[request-property-enum-value-removed]", "in API POST /payments", "`manual`"},
		},
		{
			// A client's exhaustive switch meets a value it was never told of.
			name: "FailsWhenAResponseEnumGainsAValue",
			edit: func(t *testing.T, doc *yaml.Node) {
				addEnumValue(t, lookup(t, doc, paymentOf(t, doc), "properties", "status"), "disputed")
			},
			want: []string{"[response-property-enum-value-added]", "in API GET /payments/{id}", "`disputed`"},
		},
	}
	for _, tc := range breaks {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := parseDocument(t)
			tc.edit(t, doc)
			out, code := runBreakingGuard(t, writeDocument(t, doc))
			require.Equal(t, 1, code, out)
			for _, w := range tc.want {
				require.Contains(t, out, w, out)
			}
		})
	}
}

// runBreakingGuard runs breaking.sh against revision (the served document
// when empty) and returns its combined output and exit code.
func runBreakingGuard(t *testing.T, revision string) (string, int) {
	t.Helper()
	args := []string{"breaking.sh"}
	if revision != "" {
		args = append(args, revision)
	}
	cmd := exec.CommandContext(t.Context(), "bash", args...)
	out, err := cmd.CombinedOutput()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		return string(out), exitErr.ExitCode()
	}
	require.NoError(t, err, string(out))
	return string(out), 0
}

func parseDocument(t *testing.T) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(openapi.Document, &doc))
	require.Equal(t, yaml.DocumentNode, doc.Kind)
	return doc.Content[0]
}

func writeDocument(t *testing.T, doc *yaml.Node) string {
	t.Helper()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	require.NoError(t, enc.Encode(doc))
	require.NoError(t, enc.Close())
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

// createPaymentData is the schema of createPayment's request `data`.
func createPaymentData(t *testing.T, doc *yaml.Node) *yaml.Node {
	t.Helper()
	return lookup(t, doc, doc, "paths", "/payments", "post", "requestBody", "content", "application/json", "schema", "properties", "data")
}

// paymentOf is the payment schema getPayment answers with in `data`.
func paymentOf(t *testing.T, doc *yaml.Node) *yaml.Node {
	t.Helper()
	return lookup(t, doc, doc, "paths", "/payments/{id}", "get", "responses", "200", "content", "application/json", "schema", "properties", "data")
}

// lookup walks keys down from n, following local $refs (into root) before
// each step and at the end, so it reaches the schema a path names whatever
// the components are called.
func lookup(t *testing.T, root, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	n = deref(t, root, n)
	for i, k := range keys {
		next := mapValue(n, k)
		require.NotNil(t, next, "no %q at /%s", k, strings.Join(keys[:i], "/"))
		n = deref(t, root, next)
	}
	return n
}

func deref(t *testing.T, root, n *yaml.Node) *yaml.Node {
	t.Helper()
	for {
		ref := mapValue(n, "$ref")
		if ref == nil {
			return n
		}
		ptr, ok := strings.CutPrefix(ref.Value, "#/")
		require.True(t, ok, "not a local $ref: %s", ref.Value)
		n = root
		for _, k := range strings.Split(ptr, "/") {
			k = strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~")
			n = mapValue(n, k)
			require.NotNil(t, n, "$ref %s resolves to nothing", ref.Value)
		}
	}
}

// schemaRefName is the component schema name the $ref at keys points to.
func schemaRefName(t *testing.T, doc *yaml.Node, keys ...string) string {
	t.Helper()
	holder := lookup(t, doc, doc, keys[:len(keys)-1]...)
	ref := mapValue(mapValue(holder, keys[len(keys)-1]), "$ref")
	require.NotNil(t, ref, "no $ref at /%s", strings.Join(keys, "/"))
	name, ok := strings.CutPrefix(ref.Value, "#/components/schemas/")
	require.True(t, ok, ref.Value)
	return name
}

// renameSchema renames a component schema and every $ref to it.
func renameSchema(t *testing.T, doc *yaml.Node, oldName, newName string) {
	t.Helper()
	schemas := lookup(t, doc, doc, "components", "schemas")
	require.Nil(t, mapValue(schemas, newName), newName)
	renamed := false
	for i := 0; i < len(schemas.Content); i += 2 {
		if schemas.Content[i].Value == oldName {
			schemas.Content[i].Value = newName
			renamed = true
		}
	}
	require.True(t, renamed, "no schema %s", oldName)
	oldRef, refs := "#/components/schemas/"+oldName, 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				if n.Content[i].Value == "$ref" && n.Content[i+1].Value == oldRef {
					n.Content[i+1].Value = "#/components/schemas/" + newName
					refs++
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	require.Positive(t, refs, "nothing refers to %s", oldName)
}

func mustValue(t *testing.T, m *yaml.Node, key string) *yaml.Node {
	t.Helper()
	v := mapValue(m, key)
	require.NotNil(t, v, "no %q", key)
	return v
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func setKey(t *testing.T, m *yaml.Node, key, valueYAML string) {
	t.Helper()
	require.Equal(t, yaml.MappingNode, m.Kind)
	require.Nil(t, mapValue(m, key), "%q is already there", key)
	var v yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(valueYAML), &v))
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v.Content[0])
}

func deleteKey(t *testing.T, m *yaml.Node, key string) {
	t.Helper()
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
	t.Fatalf("no key %q", key)
}

func addProperty(t *testing.T, schema *yaml.Node, name, schemaYAML string, required bool) {
	t.Helper()
	setKey(t, mustValue(t, schema, "properties"), name, schemaYAML)
	if required {
		req := mustValue(t, schema, "required")
		req.Content = append(req.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name})
	}
}

func removeProperty(t *testing.T, schema *yaml.Node, name string) {
	t.Helper()
	deleteKey(t, mustValue(t, schema, "properties"), name)
	if req := mapValue(schema, "required"); req != nil {
		req.Content = slices.DeleteFunc(req.Content, func(n *yaml.Node) bool { return n.Value == name })
	}
}

func addEnumValue(t *testing.T, schema *yaml.Node, value string) {
	t.Helper()
	enum := mustValue(t, schema, "enum")
	enum.Content = append(enum.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

func removeEnumValue(t *testing.T, schema *yaml.Node, value string) {
	t.Helper()
	enum := mustValue(t, schema, "enum")
	before := len(enum.Content)
	enum.Content = slices.DeleteFunc(enum.Content, func(n *yaml.Node) bool { return n.Value == value })
	require.Len(t, enum.Content, before-1, "enum has no %q", value)
}
