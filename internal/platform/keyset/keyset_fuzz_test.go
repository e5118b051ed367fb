package keyset_test

import (
	"testing"
	"time"

	"github.com/feddi/partner-api/internal/platform/keyset"
)

// FuzzDecode: any cursor a client sends decodes or is refused, never a
// panic; a cursor that decodes encodes back to one that decodes the same.
func FuzzDecode(f *testing.F) {
	listing := keyset.Listing("events", "mer_1")
	f.Add(listing, keyset.Encode(listing, keyset.Position{At: time.Unix(1_780_000_000, 0), Key: "evt_1"}))
	f.Add(listing, "")
	f.Add("other", "azEuMC5hLmI")
	f.Add(listing, "!!not-base64\x00")
	f.Fuzz(func(t *testing.T, listing, cursor string) {
		p, err := keyset.Decode(listing, cursor)
		if err != nil {
			return
		}
		again, err := keyset.Decode(listing, keyset.Encode(listing, p))
		if err != nil || !again.At.Equal(p.At) || again.Key != p.Key {
			t.Fatalf("%q: %+v, then %+v, %v", cursor, p, again, err)
		}
	})
}
