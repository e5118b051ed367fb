package enrollment

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/feddi/partner-api/internal/platform/secrethash"
)

// secrets are one send's code and link token, with what is stored of them.
// The code and token exist in clear only in memory and in the queued SMS.
type secrets struct {
	code      string
	linkToken string
	codeHash  []byte
	linkHash  []byte
}

const linkTokenBytes = 24 // 32 characters of base64url

// newSecrets draws a uniform 6-digit code and a 192-bit link token from
// crypto/rand for the verification, and hashes them (hashSecret).
func newSecrets(codes *secrethash.Hasher, verificationID string) (secrets, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return secrets{}, fmt.Errorf("drawing a code: %w", err)
	}
	token := make([]byte, linkTokenBytes)
	if _, err := rand.Read(token); err != nil {
		return secrets{}, fmt.Errorf("drawing a link token: %w", err)
	}
	s := secrets{code: fmt.Sprintf("%06d", n.Int64()), linkToken: base64.RawURLEncoding.EncodeToString(token)}
	s.codeHash = codes.Sum(secrethash.EnrollmentCode, verificationID, s.code)
	s.linkHash = codes.Sum(secrethash.EnrollmentLink, verificationID, s.linkToken)
	return s, nil
}

// Code and link-token hashes are HMAC-SHA256 under the server's subkeys of
// two purposes (platform/secrethash; a code can never match a token hash),
// bound to the verification id (a hash copied onto another row matches
// nothing). A salt stored beside the hash, as before migration 00010, left
// the 10^6 codes to anyone reading the table; the key never enters the
// database. They are checked under FEDDI_KEK and FEDDI_KEK_PREVIOUS, so a
// KEK rotation does not void the codes of the last 15 minutes.
