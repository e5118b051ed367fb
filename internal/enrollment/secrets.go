package enrollment

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/big"
)

// secrets are one send's code and link token, with what is stored of them.
// The code and token exist in clear only in memory and in the queued SMS.
type secrets struct {
	code      string
	linkToken string
	salt      []byte
	codeHash  []byte
	linkHash  []byte
}

const (
	saltBytes      = 16
	linkTokenBytes = 24 // 32 characters of base64url
)

// newSecrets draws a uniform 6-digit code and a 192-bit link token from
// crypto/rand, with a fresh salt for their hashes.
func newSecrets() (secrets, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return secrets{}, fmt.Errorf("drawing a code: %w", err)
	}
	token := make([]byte, linkTokenBytes)
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(token); err != nil {
		return secrets{}, fmt.Errorf("drawing a link token: %w", err)
	}
	if _, err := rand.Read(salt); err != nil {
		return secrets{}, fmt.Errorf("drawing a salt: %w", err)
	}
	s := secrets{code: fmt.Sprintf("%06d", n.Int64()), linkToken: base64.RawURLEncoding.EncodeToString(token), salt: salt}
	s.codeHash = hashSecret(salt, purposeCode, s.code)
	s.linkHash = hashSecret(salt, purposeLink, s.linkToken)
	return s, nil
}

const (
	purposeCode = "code"
	purposeLink = "link"
)

// hashSecret is SHA-256 over the salt, the purpose (so a code can never
// match a token hash) and the secret.
func hashSecret(salt []byte, purpose, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return h.Sum(nil)
}

// sameHash compares in constant time.
func sameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
