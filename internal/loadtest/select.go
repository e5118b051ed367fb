package loadtest

import (
	"fmt"
	"slices"
	"strings"
)

// Names lists the scenarios in the order a full run measures them.
var Names = []string{"pay", "pay-disjoint", "pay-hot", "pay-only", "topup-spread", "topup-hot", "identify", "mixed"}

// aliases name groups of scenarios for -scenarios.
var aliases = map[string][]string{"all": Names, "topup": {"topup-spread", "topup-hot"}}

// Select reads a comma-separated list of scenario names and aliases into
// names in the order of Names.
func Select(spec string) ([]string, error) {
	want := map[string]bool{}
	for name := range strings.SplitSeq(spec, ",") {
		name = strings.TrimSpace(name)
		switch {
		case aliases[name] != nil:
			for _, n := range aliases[name] {
				want[n] = true
			}
		case slices.Contains(Names, name):
			want[name] = true
		default:
			return nil, fmt.Errorf("unknown scenario %q (known: all, topup, %s)", name, strings.Join(Names, ", "))
		}
	}
	var out []string
	for _, n := range Names {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
