// Package ijson holds request bodies to I-JSON (RFC 7493): valid UTF-8, no
// duplicate member names, no lone surrogates. It also refuses the NUL
// character, which PostgreSQL cannot store in text. Go's decoder accepts all
// of these silently (the last duplicate wins, lone surrogates and invalid
// bytes become U+FFFD), so a body is checked once, before it is decoded.
package ijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is the first value of a body that breaks the rules.
type Problem struct {
	// Pointer is the JSON pointer of the value at fault ("" for the whole
	// body); for a bad member name, that of the object holding it.
	Pointer string
	// Reason completes a sentence about the value: "is given twice".
	Reason string
}

func (p *Problem) Error() string {
	if p.Pointer == "" {
		return "request body " + p.Reason
	}
	return p.Pointer + " " + p.Reason
}

// The reasons, in the words of the error message.
const (
	ReasonDuplicate     = "is given twice"
	ReasonNUL           = "contains the NUL character (\\u0000), which is not allowed"
	ReasonLoneSurrogate = "contains a lone surrogate (an unpaired \\uD800-\\uDFFF escape), which is not allowed"
	ReasonInvalidUTF8   = "is not valid UTF-8"
	ReasonInvalidJSON   = "is not valid JSON"
)

// frame is an open object or array on the way to the current value.
type frame struct {
	object bool
	index  int    // arrays: the index of the next element
	key    string // objects: the member name being read, "" before one
	// seen holds the member names so far; a map only past smallSeen names.
	seen    []string
	seenMap map[string]struct{}
	wantKey bool
}

const smallSeen = 16

// Check reads body in one pass and returns the first problem, or nil. An
// empty (or all-space) body is no problem: whether one is needed is the
// schema's business.
func Check(body []byte) *Problem {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if !utf8.Valid(body) {
		// Name the string at fault if the walk reaches it first.
		if p := walk(body); p != nil {
			return p
		}
		return &Problem{Reason: ReasonInvalidUTF8}
	}
	return walk(body)
}

func walk(body []byte) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	start := int64(0)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return &Problem{Reason: ReasonInvalidJSON}
			}
			return nil
		}
		if err != nil || (len(stack) == 0 && start > 0) {
			// A second top-level value is no more JSON than a broken one.
			return &Problem{Reason: ReasonInvalidJSON}
		}
		end := dec.InputOffset()
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch d, _ := tok.(json.Delim); {
		case d == '}' || d == ']':
			stack = stack[:len(stack)-1]
			advance(stack)
			start = end
			continue
		case top != nil && top.object && top.wantKey:
			// A member name.
			name := tok.(string)
			if reason := stringProblem(name, body[start:end]); reason != "" {
				return &Problem{Pointer: pointer(stack, false), Reason: "has a member name that " + reason}
			}
			if top.saw(name) {
				top.key = name
				return &Problem{Pointer: pointer(stack, true), Reason: ReasonDuplicate}
			}
			top.key, top.wantKey = name, false
			start = end
			continue
		}
		switch v := tok.(type) {
		case json.Delim: // '{' or '['
			stack = append(stack, frame{object: v == '{', wantKey: v == '{'})
			start = end
			continue
		case string:
			if reason := stringProblem(v, body[start:end]); reason != "" {
				return &Problem{Pointer: pointer(stack, true), Reason: reason}
			}
		}
		advance(stack)
		start = end
	}
}

// advance moves the innermost container past the value that just ended.
func advance(stack []frame) {
	if len(stack) == 0 {
		return
	}
	top := &stack[len(stack)-1]
	if top.object {
		top.wantKey = true
	} else {
		top.index++
	}
}

// saw records a member name and says whether it was there already.
func (f *frame) saw(name string) bool {
	if f.seenMap != nil {
		if _, ok := f.seenMap[name]; ok {
			return true
		}
		f.seenMap[name] = struct{}{}
		return false
	}
	for _, s := range f.seen {
		if s == name {
			return true
		}
	}
	f.seen = append(f.seen, name)
	if len(f.seen) > smallSeen {
		f.seenMap = make(map[string]struct{}, 2*len(f.seen))
		for _, s := range f.seen {
			f.seenMap[s] = struct{}{}
		}
		f.seen = nil
	}
	return false
}

// pointer is the JSON pointer of the current value: with leaf, down to the
// member or element being read; without, of the innermost container.
func pointer(stack []frame, leaf bool) string {
	var b strings.Builder
	for i, f := range stack {
		if i == len(stack)-1 && !leaf {
			break
		}
		b.WriteByte('/')
		if f.object {
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.key, "~", "~0"), "/", "~1"))
		} else {
			b.WriteString(strconv.Itoa(f.index))
		}
	}
	return b.String()
}

// stringProblem checks a decoded string; raw holds its literal (after
// whatever separators and space preceded it). It looks at the literal only
// when the decoder produced U+FFFD, the one sign of a replaced lone
// surrogate or invalid byte.
func stringProblem(decoded string, raw []byte) string {
	if strings.IndexByte(decoded, 0) >= 0 {
		return ReasonNUL
	}
	if !strings.ContainsRune(decoded, utf8.RuneError) {
		return ""
	}
	if i := bytes.IndexByte(raw, '"'); i >= 0 {
		raw = raw[i:]
	}
	return literalProblem(raw)
}

// literalProblem scans a string literal for invalid UTF-8 and for \u escapes
// of surrogates that do not form a pair.
func literalProblem(lit []byte) string {
	if !utf8.Valid(lit) {
		return ReasonInvalidUTF8
	}
	pendingHigh := false // the previous escape was a high surrogate
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' || i+1 >= len(lit) {
			if pendingHigh {
				return ReasonLoneSurrogate
			}
			continue
		}
		if lit[i+1] != 'u' || i+6 > len(lit) {
			if pendingHigh {
				return ReasonLoneSurrogate
			}
			i++ // skip the escaped character (a '\\' or '"' among them)
			continue
		}
		r, err := strconv.ParseUint(string(lit[i+2:i+6]), 16, 32)
		if err != nil {
			return ReasonInvalidJSON
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if pendingHigh {
				return ReasonLoneSurrogate
			}
			pendingHigh = true
		case r >= 0xDC00 && r <= 0xDFFF:
			if !pendingHigh {
				return ReasonLoneSurrogate
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return ReasonLoneSurrogate
			}
		}
		i += 5
	}
	if pendingHigh {
		return ReasonLoneSurrogate
	}
	return ""
}
