package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzCredentialParsing reads what a client controls before any key is
// looked up: the Authorization header and a JWT's header and claims
// segments. Never a panic; a bearer token read has no surrounding space.
func FuzzCredentialParsing(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig", "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0", `{"aud":["feddi"],"iat":1,"exp":2}`)
	f.Add("bearer   x", "", `{"aud":"feddi"}`)
	f.Add("Basic abc", "!!", `{"aud":[1]}`)
	f.Add("Bearer", "e30", `{"exp":1e400}`)
	f.Fuzz(func(t *testing.T, authorization, segment, claims string) {
		token, err := BearerToken(authorization)
		if err == nil && token != strings.TrimSpace(token) {
			t.Fatalf("%q: token %q", authorization, token)
		}
		var header struct {
			Alg  string          `json:"alg"`
			Kid  string          `json:"kid"`
			Crit json.RawMessage `json:"crit"`
		}
		_ = decodeSegment(segment, &header)
		var cs claimSet
		if parsesAs([]byte(claims), &cs) {
			_ = withinLifetime(cs, time.Unix(1_780_000_000, 0))
		}
	})
}
