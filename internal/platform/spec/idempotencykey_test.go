package spec_test

import (
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/spec"
)

// Replaying the document's examples (Prism, a fuzzer seeded with examples, a
// reader pasting curl lines) must never answer idempotency_key_reused: every
// example Idempotency-Key is distinct across operations and examples, and an
// operation with named request examples names its keys the same way, so a
// tool pairing them by name sends each body with its own key.
func TestExampleIdempotencyKeysAreDistinct(t *testing.T) {
	t.Parallel()
	s := load(t)
	seen := map[string]string{}
	operations, keyed := 0, 0
	for _, op := range s.Operations() {
		if op.Idempotency != spec.IdempotencyNone {
			keyed++
		}
		for _, p := range append(slices.Clone(op.PathItem.Parameters), op.Op.Parameters...) {
			if p.Value.In != "header" || http.CanonicalHeaderKey(p.Value.Name) != "Idempotency-Key" {
				continue
			}
			operations++
			where := op.ID + " Idempotency-Key"
			var values []any
			if p.Value.Example != nil {
				values = append(values, p.Value.Example)
			}
			var names []string
			for name, ex := range p.Value.Examples {
				names = append(names, name)
				values = append(values, ex.Value.Value)
			}
			require.NotEmpty(t, values, "%s has no example", where)
			for _, v := range values {
				key, ok := v.(string)
				require.True(t, ok, "%s example %v is a string", where, v)
				require.NotContains(t, seen, key, "%s example %q is also %s's", where, key, seen[key])
				seen[key] = where
			}
			if rb := op.Op.RequestBody; rb != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && len(mt.Examples) > 0 {
					var bodies []string
					for name := range mt.Examples {
						bodies = append(bodies, name)
					}
					sort.Strings(names)
					sort.Strings(bodies)
					require.Equal(t, bodies, names, "%s: one key example per request example, by name", where)
				}
			}
		}
	}
	require.Equal(t, keyed, operations, "every operation that takes an Idempotency-Key declares it")
}
