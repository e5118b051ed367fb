// Package secrethash hashes the short secrets people type or tap (payment
// one-time codes, enrollment codes and link tokens, QR short codes) with
// HMAC-SHA256 under a key that never enters the database.
//
// A 6- or 8-digit code has at most 10^8 values: whoever reads a plain or
// salted SHA-256 of one (a backup, a replica, a leaked dump) tries them all
// in a second. Keyed with a server secret, the same hash tells a database
// reader nothing. The secret comes from the key-encryption key family
// (FEDDI_KEK, see docs/authentication.md): one subkey per purpose is
// derived with HKDF-SHA256, so the KEK itself only ever keys HKDF here (and
// AES-GCM in the auth package, a different primitive under a different
// construction), and a code hash of one purpose can never match another's.
//
// QR payloads (256 random bits) stay plain SHA-256 in the qr package: no
// one can enumerate them, keyed or not.
//
// Rotation: hashes are written with FEDDI_KEK and checked against FEDDI_KEK
// and, while it is set, FEDDI_KEK_PREVIOUS (Hasher.Sums), so a code sent
// just before `feddi keys rotate-kek` still works on every replica for its
// few minutes of life.
package secrethash

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/feddi/partner-api/internal/platform/config"
)

// Purpose names what a hash protects; each has its own subkey.
type Purpose string

// The purposes of the service. Changing a string invalidates every live
// hash of that purpose.
const (
	OTPCode        Purpose = "payments/otp-code"
	EnrollmentCode Purpose = "enrollment/code"
	EnrollmentLink Purpose = "enrollment/link-token"
	ShortCode      Purpose = "qr/short-code"
)

var purposes = []Purpose{OTPCode, EnrollmentCode, EnrollmentLink, ShortCode}

// kekSize is the length of a key-encryption key.
const kekSize = 32

// DevelopmentKEK is the KEK of a sandbox started without FEDDI_KEK, shared
// with the auth package's sealing so one setting governs both. It is in
// the source, hence no secret: live refuses it.
func DevelopmentKEK() []byte {
	sum := sha256.Sum256([]byte("feddi sandbox development KEK: public, never for live"))
	return sum[:]
}

// Hasher hashes with the subkeys of the current KEK and checks against
// those of the current and the previous one.
type Hasher struct {
	// keys holds, per KEK (current first), the subkey of each purpose.
	keys []map[Purpose][]byte
	// Development says the current KEK is DevelopmentKEK: the hashes are
	// then as guessable as unkeyed ones, which only a sandbox accepts.
	Development bool
}

// FromConfig builds the hasher of a configuration.
func FromConfig(cfg config.Config) (*Hasher, error) {
	return New(cfg.Env, cfg.KEK, cfg.KEKPrevious)
}

// New builds a hasher from a KEK and, during a rotation, the previous one
// (nil when unset). Live needs a KEK and refuses the development one; a
// sandbox without one uses DevelopmentKEK (the caller warns).
func New(env config.Environment, kek, previous []byte) (*Hasher, error) {
	h := &Hasher{}
	if kek == nil {
		if env == config.Live {
			return nil, errors.New("secrethash: FEDDI_KEK is required in live: set it to 32 random bytes in base64 (openssl rand -base64 32)")
		}
		kek, h.Development = DevelopmentKEK(), true
	}
	if env == config.Live && (bytes.Equal(kek, DevelopmentKEK()) || bytes.Equal(previous, DevelopmentKEK())) {
		return nil, errors.New("secrethash: the sandbox development KEK is public and cannot be used in live")
	}
	keks := [][]byte{kek}
	if previous != nil && !bytes.Equal(previous, kek) {
		keks = append(keks, previous)
	}
	for _, k := range keks {
		if len(k) != kekSize {
			return nil, fmt.Errorf("secrethash: a KEK is %d bytes, got %d", kekSize, len(k))
		}
		sub := make(map[Purpose][]byte, len(purposes))
		for _, p := range purposes {
			key, err := hkdf.Key(sha256.New, k, nil, "feddi code hash v1 "+string(p), sha256.Size)
			if err != nil {
				return nil, fmt.Errorf("secrethash: deriving the %s key: %w", p, err)
			}
			sub[p] = key
		}
		h.keys = append(h.keys, sub)
	}
	return h, nil
}

// Sum is the hash to store: HMAC-SHA256 under the current KEK's subkey of
// the purpose, over the parts (each length-prefixed, so ("ab","c") and
// ("a","bc") differ). Bind the secret to what it belongs to by passing
// that too (a challenge id, a merchant id).
func (h *Hasher) Sum(p Purpose, parts ...string) []byte {
	return sum(h.key(0, p), parts)
}

// Sums are the hashes a stored value may hold: under the current KEK, then
// the previous one. A lookup by hash tries them in order.
func (h *Hasher) Sums(p Purpose, parts ...string) [][]byte {
	out := make([][]byte, len(h.keys))
	for i := range h.keys {
		out[i] = sum(h.key(i, p), parts)
	}
	return out
}

// Matches compares stored with the hashes of the parts under every
// configured KEK, in constant time.
func (h *Hasher) Matches(stored []byte, p Purpose, parts ...string) bool {
	ok := 0
	for _, s := range h.Sums(p, parts...) {
		ok |= subtle.ConstantTimeCompare(stored, s)
	}
	return ok == 1
}

func (h *Hasher) key(i int, p Purpose) []byte {
	k, ok := h.keys[i][p]
	if !ok {
		panic(fmt.Sprintf("secrethash: unknown purpose %q", p))
	}
	return k
}

func sum(key []byte, parts []string) []byte {
	m := hmac.New(sha256.New, key)
	var n [4]byte
	for _, part := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}
