package ijson_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feddi/partner-api/internal/platform/ijson"
)

// FuzzCheck: Check never panics, never accepts what is not UTF-8 JSON, and
// names a JSON pointer when it names anything.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"data":{"amount_minor":1,"amount_minor":2}}`,
		`{"s":"\ud800"}`, `{"s":"\ud83d\ude00"}`, `{"a":["\u0000"]}`, "{\"s\":\"\xff\"}",
		`[{"a":{"b":[1,{"c":"d"}]}}]`, `{"a~/":1,"a~\/":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := ijson.Check(body)
		if p == nil {
			if strings.TrimSpace(string(body)) != "" && (!utf8.Valid(body) || !json.Valid(body)) {
				t.Fatalf("accepted %q", body)
			}
			return
		}
		if p.Pointer != "" && p.Pointer[0] != '/' {
			t.Fatalf("pointer %q of %q", p.Pointer, body)
		}
	})
}
