// Package keyset makes the opaque cursors of keyset-paginated listings
// ordered newest first by (time, key). A cursor carries the position of the
// last item of a page and a checksum binding it to one listing (its scope
// and filters): a cursor that was altered, truncated or taken from another
// listing (other filters, another integration) does not decode. Knowing the
// format lets nobody read beyond their own listing, since every query
// filters by tenant anyway; the checksum is there so a client's mistake is
// refused loudly (validation_failed) instead of paging wrongly.
package keyset

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"strconv"
	"strings"
	"time"
)

// Position is where the next page starts: strictly after (At, Key) in
// descending order.
type Position struct {
	At  time.Time
	Key string
}

// ErrInvalid: the cursor is not one of this listing. It names the cursor
// (FieldCursor) as the input at fault.
var ErrInvalid error = invalidCursor{}

type invalidCursor struct{}

func (invalidCursor) Error() string { return "The cursor is not a cursor of this listing." }

// FieldCursor is the cursor given to Decode, the input ErrInvalid is
// about (fielderr.Field).
const FieldCursor fielderr.Field = "keyset.Decode.cursor"

// InputField is the cursor.
func (invalidCursor) InputField() fielderr.Input { return fielderr.Input{Field: FieldCursor} }

const version = "k1"

// Encode makes the cursor of position p in the listing.
func Encode(listing string, p Position) string {
	body := version + "." + strconv.FormatInt(p.At.UnixMicro(), 36) + "." + p.Key
	return base64.RawURLEncoding.EncodeToString([]byte(body + "." + sum(listing, body)))
}

// Decode reads a cursor of the listing.
func Decode(listing, cursor string) (Position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return Position{}, ErrInvalid
	}
	s := string(raw)
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return Position{}, ErrInvalid
	}
	body, check := s[:i], s[i+1:]
	if subtle.ConstantTimeCompare([]byte(check), []byte(sum(listing, body))) != 1 {
		return Position{}, ErrInvalid
	}
	parts := strings.SplitN(body, ".", 3)
	if len(parts) != 3 || parts[0] != version || parts[2] == "" {
		return Position{}, ErrInvalid
	}
	micros, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return Position{}, ErrInvalid
	}
	return Position{At: time.UnixMicro(micros).UTC(), Key: parts[2]}, nil
}

func sum(listing, body string) string {
	h := sha256.Sum256([]byte(version + "\x00" + listing + "\x00" + body))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

// Listing names a listing from its scope and filters, in a fixed order.
func Listing(parts ...string) string { return strings.Join(parts, "\x1f") }

// Page is one page of a keyset listing, newest first: every listing of the
// API returns one.
type Page[T any] struct {
	Items []T
	// NextCursor continues the listing after the last item; empty on the
	// last page.
	NextCursor string
}

// HasMore says whether a page follows this one.
func (p Page[T]) HasMore() bool { return p.NextCursor != "" }
