package ijson_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/ijson"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	accepted := map[string]string{
		"Empty":              ``,
		"Space":              " \n",
		"Object":             `{"meta":{"api_version":"2026-06-01"},"data":{"amount_minor":1,"n":[1,{"a":1},{"a":2}],"s":"x"}}`,
		"SameNameElsewhere":  `{"a":{"a":1},"b":{"a":1},"c":[{"a":1},{"a":2}]}`,
		"SurrogatePair":      `{"s":"\ud83d\ude00"}`,
		"LiteralReplacement": "{\"s\":\"\uFFFD\"}",
		"EscapedReplacement": `{"s":"\ufffd \\ud800"}`,
		"EscapedBackslashes": `{"s":"\\\\ud800\\"}`,
		"ManyKeys":           manyKeys(100, false),
		"Scalar":             `"x"`,
		"NULLookalike":       `{"s":"\\u0000"}`,
	}
	for name, body := range accepted {
		t.Run("Accepts"+name, func(t *testing.T) {
			t.Parallel()
			require.Nil(t, ijson.Check([]byte(body)))
		})
	}
	refused := []struct {
		name, body, pointer, reason string
	}{
		{"Duplicate", `{"data":{"amount_minor":1,"amount_minor":100000000}}`, "/data/amount_minor", ijson.ReasonDuplicate},
		{"DuplicateTopLevel", `{"a":1,"b":2,"a":3}`, "/a", ijson.ReasonDuplicate},
		{"DuplicateInArray", `{"x":[{"a":1},{"b":{"c":1,"c":2}}]}`, "/x/1/b/c", ijson.ReasonDuplicate},
		{"DuplicateAfterNested", `{"a":{"b":[1,2]},"a":1}`, "/a", ijson.ReasonDuplicate},
		{"DuplicateEscaped", `{"a~b/c":1,"a~b\/c":2}`, "/a~0b~1c", ijson.ReasonDuplicate},
		{"DuplicateMany", manyKeys(100, true), "/k50", ijson.ReasonDuplicate},
		{"NUL", `{"data":{"settlement_reference":"a\u0000b"}}`, "/data/settlement_reference", ijson.ReasonNUL},
		{"NULInArray", `{"a":["x","\u0000"]}`, "/a/1", ijson.ReasonNUL},
		{"NULInName", `{"data":{"a\u0000":1}}`, "/data", "has a member name that " + ijson.ReasonNUL},
		{"LoneHigh", `{"s":"\ud800"}`, "/s", ijson.ReasonLoneSurrogate},
		{"LoneHighThenText", `{"s":"\ud800x"}`, "/s", ijson.ReasonLoneSurrogate},
		{"LoneLow", `{"s":"\udc00"}`, "/s", ijson.ReasonLoneSurrogate},
		{"HighHigh", `{"s":"\ud800\ud800"}`, "/s", ijson.ReasonLoneSurrogate},
		{"HighThenEscape", `{"s":"\ud800\n"}`, "/s", ijson.ReasonLoneSurrogate},
		{"LoneAfterReplacement", `{"s":"\ufffd\udfff"}`, "/s", ijson.ReasonLoneSurrogate},
		{"InvalidUTF8", "{\"s\":\"a\xffb\"}", "/s", ijson.ReasonInvalidUTF8},
		{"InvalidUTF8Outside", "{\"s\":1}\xff", "", ijson.ReasonInvalidJSON},
		{"Truncated", `{"a":`, "", ijson.ReasonInvalidJSON},
		{"TwoValues", `"0"0`, "", ijson.ReasonInvalidJSON},
		{"TwoObjects", `{} {}`, "", ijson.ReasonInvalidJSON},
	}
	for _, tc := range refused {
		t.Run("Refuses"+tc.name, func(t *testing.T) {
			t.Parallel()
			p := ijson.Check([]byte(tc.body))
			require.NotNil(t, p)
			require.Equal(t, tc.pointer, p.Pointer)
			require.Equal(t, tc.reason, p.Reason)
		})
	}
}

func manyKeys(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + itoa(i) + `":1`)
	}
	if dup {
		b.WriteString(`,"k50":2`)
	}
	b.WriteString("}")
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func BenchmarkCheck(b *testing.B) {
	body := []byte(`{"meta":{"api_version":"2026-06-01"},"data":{"wallet_id":"wal_01JZ3K4M5N6P7Q8R9S0T1V2W3X","amount_minor":5000,"currency":"EUR","provider":"adyen","settlement_reference":"ref-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if ijson.Check(body) != nil {
			b.Fatal("refused")
		}
	}
}
