package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/secrethash"
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// developmentKEK seals signing keys in a sandbox started without FEDDI_KEK,
// so `make run` and the tests need no setup. It is in the source, hence no
// secret: it only keeps plaintext keys out of the table, and live refuses it.
// It is the one secrethash keys code hashes with in that case.
var developmentKEK = secrethash.DevelopmentKEK()

// ErrKEKMismatch: a signing key opens with none of the configured KEKs
// (FEDDI_KEK was changed without `feddi keys rotate-kek`).
var ErrKEKMismatch = errors.New("signing key does not open with FEDDI_KEK or FEDDI_KEK_PREVIOUS")

// keyring seals signing private keys with the current KEK and opens them
// with the current or a previous one: while a KEK rotation is under way
// every replica reads keys sealed either way.
type keyring struct {
	current cipher.AEAD
	// readers open keys: the current KEK first, then the previous ones.
	readers []cipher.AEAD
	// development says the current KEK is developmentKEK.
	development bool
}

// newKeyring builds the keyring of an environment. Live needs FEDDI_KEK
// and refuses the development KEK in either role. A sandbox without
// FEDDI_KEK seals with the development KEK, and a sandbox always also reads
// it, so moving a sandbox onto a real KEK is one `feddi keys rotate-kek`.
func newKeyring(env config.Environment, kek, previous []byte) (*keyring, error) {
	kr := &keyring{}
	if kek == nil {
		if env == config.Live {
			return nil, errors.New("auth: FEDDI_KEK is required in live: set it to 32 random bytes in base64 (openssl rand -base64 32)")
		}
		kek, kr.development = developmentKEK, true
	}
	if env == config.Live && (bytes.Equal(kek, developmentKEK) || bytes.Equal(previous, developmentKEK)) {
		return nil, errors.New("auth: the sandbox development KEK is public and cannot be used in live")
	}
	keys := [][]byte{kek}
	if previous != nil {
		keys = append(keys, previous)
	}
	if env != config.Live && !kr.development {
		keys = append(keys, developmentKEK)
	}
	for i, k := range keys {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			kr.current = aead
		}
		kr.readers = append(kr.readers, aead)
	}
	return kr, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("auth: a KEK is %d bytes, got %d", KEKSize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: preparing the KEK: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts a private key with the current KEK: a fresh random nonce,
// then the ciphertext and tag. The kid is the additional data, so a sealed
// key copied onto another row does not open.
func (kr *keyring) seal(kid string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, kr.current.NonceSize(), kr.current.NonceSize()+len(plaintext)+kr.current.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	return kr.current.Seal(nonce, nonce, plaintext, []byte(kid)), nil
}

// open decrypts a sealed private key with whichever configured KEK sealed it.
func (kr *keyring) open(kid string, sealed []byte) ([]byte, error) {
	for _, aead := range kr.readers {
		n := aead.NonceSize()
		if len(sealed) < n+aead.Overhead() {
			break
		}
		if plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(kid)); err == nil {
			return plain, nil
		}
	}
	return nil, fmt.Errorf("signing key %s: %w", kid, ErrKEKMismatch)
}
