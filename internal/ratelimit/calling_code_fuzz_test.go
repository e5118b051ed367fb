package ratelimit_test

import (
	"strings"
	"testing"

	"github.com/feddi/partner-api/internal/ratelimit"
)

// FuzzCallingCode: the E.164 reading behind the per-country SMS limits never
// panics and answers "unknown" or a leading part of the number.
func FuzzCallingCode(f *testing.F) {
	for _, s := range []string{"+4915112345678", "+12125550100", "+35312345678", "+7", "+", "", "49", "+\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, phone string) {
		code := ratelimit.CallingCode(phone)
		if code != "unknown" && (len(code) > 3 || !strings.HasPrefix(strings.TrimPrefix(phone, "+"), code)) {
			t.Fatalf("%q: %q", phone, code)
		}
	})
}
