package payments

import (
	"testing"

	"github.com/feddi/partner-api/internal/qr"
)

// FuzzCredentialCheck: a payment credential is accepted exactly in the
// combinations the document lists, whatever its fields hold.
func FuzzCredentialCheck(f *testing.F) {
	f.Add("qr", "v", "", "", "")
	f.Add("otp", "", "+4915112345678", "", "")
	f.Add("otp", "", "", "chl_1", "123456")
	f.Add("otp", "v", "+49", "chl_1", "1")
	f.Add("\x00", "", "", "", "")
	f.Fuzz(func(t *testing.T, typ, value, phone, challenge, code string) {
		_ = qr.IsShortCode(value)
		c := Credential{Type: CredentialType(typ), Value: value, Phone: phone, ChallengeID: challenge, Code: code}
		set := func(s string) bool { return s != "" }
		want := (c.Type == CredentialQR && set(value) && !set(phone) && !set(challenge) && !set(code)) ||
			(c.Type == CredentialOTP && !set(value) && set(phone) && !set(challenge) && !set(code)) ||
			(c.Type == CredentialOTP && !set(value) && !set(phone) && set(challenge) && set(code))
		if got := c.check() == nil; got != want {
			t.Fatalf("%+v: accepted %v, want %v", c, got, want)
		}
	})
}
