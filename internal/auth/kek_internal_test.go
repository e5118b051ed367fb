package auth

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/config"
)

// The development KEK is in the source: live must never seal or open with
// it, whichever variable it is given in.
func TestLiveRefusesTheDevelopmentKEK(t *testing.T) {
	t.Parallel()
	other := bytes.Repeat([]byte{7}, KEKSize)
	_, err := newKeyring(config.Live, developmentKEK, nil)
	require.ErrorContains(t, err, "development KEK")
	_, err = newKeyring(config.Live, other, developmentKEK)
	require.ErrorContains(t, err, "development KEK")

	kr, err := newKeyring(config.Live, other, nil)
	require.NoError(t, err)
	require.Len(t, kr.readers, 1, "live reads only the KEKs it is given")
}

func TestSealedKeysAreBoundToTheirKid(t *testing.T) {
	t.Parallel()
	kr, err := newKeyring(config.Sandbox, bytes.Repeat([]byte{9}, KEKSize), nil)
	require.NoError(t, err)
	sealed, err := kr.seal("kid-a", []byte("pkcs8"))
	require.NoError(t, err)
	again, err := kr.seal("kid-a", []byte("pkcs8"))
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce per seal")
	plain, err := kr.open("kid-a", sealed)
	require.NoError(t, err)
	require.Equal(t, []byte("pkcs8"), plain)
	_, err = kr.open("kid-b", sealed)
	require.ErrorIs(t, err, ErrKEKMismatch, "moved onto another row, it does not open")
}
