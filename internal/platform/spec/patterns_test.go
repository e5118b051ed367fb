package spec_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/feddi/partner-api/openapi"
)

// walkMappings calls fn for every key/value pair of every mapping in the
// document, components and webhooks included, with the path that leads there.
func walkMappings(n *yaml.Node, path string, fn func(path, key string, value *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkMappings(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			fn(path, k, v)
			walkMappings(v, path+"/"+k, fn)
		}
	}
}

func documentRoot(t *testing.T) *yaml.Node {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(openapi.Document, &root))
	return &root
}

// A pattern's shorthand classes mean different things to different regex
// engines: `\d` is any Unicode digit in .NET and Python, ASCII in ECMAScript
// and Go; `\w` and `\s` differ the same way. Patterns spell the class out.
func TestPatternsSpellOutTheirCharacterClasses(t *testing.T) {
	t.Parallel()
	shorthand := regexp.MustCompile(`\\[dDwWsS]`)
	patterns := 0
	walkMappings(documentRoot(t), "", func(path, key string, v *yaml.Node) {
		if key != "pattern" || v.Kind != yaml.ScalarNode {
			return
		}
		patterns++
		require.NotRegexp(t, shorthand, v.Value, "%s: write [0-9], [A-Za-z0-9_] or the exact whitespace, not a shorthand class", path)
		_, err := regexp.Compile(v.Value)
		require.NoError(t, err, path)
	})
	require.Greater(t, patterns, 30, "the walk reached the document's patterns")
}
