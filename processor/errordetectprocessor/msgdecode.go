package errordetectprocessor

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/swar"
)

// A decoder for the message and document lists as llmextract writes them: text parts and
// plain string fields. encoding/json spent most of the processor's time on multi-KB
// prompts (a validating pass, then a decoding pass that copies every string); this one
// makes one pass and returns the strings without escapes as substrings of the attribute.
// Anything outside that subset (other value types, null, unknown, duplicate or differently
// cased keys, invalid UTF-8, surrogate escapes, ...) makes it give up, and the caller uses
// encoding/json; FuzzDecode holds the two to the same results.

type jsonScanner struct {
	s   string
	i   int
	buf []byte
}

func (d *jsonScanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (d *jsonScanner) consume(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string literal.
func (d *jsonScanner) str() (string, bool) {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	// Most strings are printable ASCII without escapes: the closing quote and a backslash
	// are looked for with the vectorized byte search, and one eight-byte pass rules out
	// control bytes and proves the rest valid UTF-8.
	if q := strings.IndexByte(d.s[start:], '"'); q >= 0 {
		if out := d.s[start : start+q]; strings.IndexByte(out, '\\') < 0 && printableASCII(out) {
			d.i = start + q + 1
			return out, true
		}
	}
	j := start + plainRun(d.s[start:])
	if j < len(d.s) && d.s[j] == '"' {
		out := d.s[start:j]
		if !utf8.ValidString(out) {
			return "", false
		}
		d.i = j + 1
		return out, true
	}
	if j >= len(d.s) || d.s[j] != '\\' {
		return "", false
	}
	d.buf = append(d.buf[:0], d.s[start:j]...)
	for j < len(d.s) {
		c := d.s[j]
		switch {
		case c == '"':
			if !utf8.Valid(d.buf) {
				return "", false
			}
			d.i = j + 1
			return string(d.buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			d.buf = append(d.buf, c)
			j++
			continue
		}
		if j+1 >= len(d.s) {
			return "", false
		}
		switch e := d.s[j+1]; e {
		case '"', '\\', '/':
			d.buf = append(d.buf, e)
		case 'b':
			d.buf = append(d.buf, '\b')
		case 'f':
			d.buf = append(d.buf, '\f')
		case 'n':
			d.buf = append(d.buf, '\n')
		case 'r':
			d.buf = append(d.buf, '\r')
		case 't':
			d.buf = append(d.buf, '\t')
		case 'u':
			if j+6 > len(d.s) {
				return "", false
			}
			r, err := strconv.ParseUint(d.s[j+2:j+6], 16, 32)
			if err != nil || strings.ContainsAny(d.s[j+2:j+6], "+-") || (0xd800 <= r && r < 0xe000) {
				return "", false
			}
			d.buf = utf8.AppendRune(d.buf, rune(r))
			j += 6
			continue
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}

// object reads the members of an object, calling member for each key (once per key).
func (d *jsonScanner) object(member func(key string) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	for {
		k, ok := d.str()
		if !ok || !d.consume(':') || !member(k) {
			return false
		}
		if d.consume('}') {
			return true
		}
		if !d.consume(',') {
			return false
		}
	}
}

// array reads the elements of a non-null array, calling elem for each.
func (d *jsonScanner) array(elem func() bool) bool {
	if !d.consume('[') {
		return false
	}
	if d.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.consume(']') {
			return true
		}
		if !d.consume(',') {
			return false
		}
	}
}

func (d *jsonScanner) end() bool {
	d.ws()
	return d.i == len(d.s)
}

// once marks key bit k as seen, failing on a repeat.
func once(seen *uint16, k uint16) bool {
	if *seen&k != 0 {
		return false
	}
	*seen |= k
	return true
}

// plainRun returns the length of the longest prefix of s without '"', '\\' or a control
// byte (below 0x20): the part of a string literal that needs no unescaping. It tests eight
// bytes at a time; each test is exact (no block with such a byte is skipped).
func plainRun(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := swar.Load64(s[i:])
		quote := x ^ (swar.LSBs * '"')
		backslash := x ^ (swar.LSBs * '\\')
		if (x-swar.LSBs*0x20)&^x&swar.MSBs != 0 ||
			(quote-swar.LSBs)&^quote&swar.MSBs != 0 ||
			(backslash-swar.LSBs)&^backslash&swar.MSBs != 0 {
			break
		}
	}
	for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 {
		i++
	}
	return i
}

// decodeListFast decodes s, a JSON array of objects, like json.Unmarshal into []T, with field
// reading one key of an object into v (seen tracks the keys read, which JSON allows once
// here); it reports false when s is outside the subset it handles.
func decodeListFast[T any](s string, field func(d *jsonScanner, v *T, key string, seen *uint16) bool) ([]T, bool) {
	d := &jsonScanner{s: s}
	out := []T{}
	ok := d.array(func() bool {
		var v T
		var seen uint16
		if !d.object(func(key string) bool { return field(d, &v, key, &seen) }) {
			return false
		}
		out = append(out, v)
		return true
	})
	if !ok || !d.end() {
		return nil, false
	}
	return out, true
}

// decodeMessagesFast decodes s like json.Unmarshal into []llmschema.Message, or reports
// false when s is outside the subset it handles.
func decodeMessagesFast(s string) ([]llmschema.Message, bool) {
	return decodeListFast(s, func(d *jsonScanner, m *llmschema.Message, key string, seen *uint16) bool {
		var ok bool
		switch key {
		case "role":
			m.Role, ok = d.str()
			return ok && once(seen, 1)
		case "name":
			m.Name, ok = d.str()
			return ok && once(seen, 2)
		case "finish_reason":
			m.FinishReason, ok = d.str()
			return ok && once(seen, 4)
		case "parts":
			if !once(seen, 8) {
				return false
			}
			m.Parts = []llmschema.Part{}
			return d.array(func() bool {
				p, ok := d.part()
				m.Parts = append(m.Parts, p)
				return ok
			})
		}
		return false
	})
}

func (d *jsonScanner) part() (llmschema.Part, bool) {
	var p llmschema.Part
	var seen uint16
	ok := d.object(func(key string) bool {
		var field *string
		var anyField *any
		var bit uint16
		switch key {
		case "type":
			field, bit = &p.Type, 1
		case "id":
			field, bit = &p.ID, 2
		case "name":
			field, bit = &p.Name, 4
		case "mime_type":
			field, bit = &p.MIMEType, 8
		case "modality":
			field, bit = &p.Modality, 16
		case "uri":
			field, bit = &p.URI, 32
		case "content":
			anyField, bit = &p.Content, 64
		case "arguments":
			anyField, bit = &p.Arguments, 128
		case "response":
			anyField, bit = &p.Response, 256
		default:
			return false
		}
		if !once(&seen, bit) {
			return false
		}
		v, ok := d.str()
		if field != nil {
			*field = v
		} else {
			*anyField = v
		}
		return ok
	})
	return p, ok
}

// decodeDocumentsFast decodes s like json.Unmarshal into []llmschema.Document, or reports
// false when s is outside the subset it handles (a score that is not a plain number, for one).
func decodeDocumentsFast(s string) ([]llmschema.Document, bool) {
	return decodeListFast(s, func(d *jsonScanner, doc *llmschema.Document, key string, seen *uint16) bool {
		var ok bool
		switch key {
		case "id":
			doc.ID, ok = d.str()
			return ok && once(seen, 1)
		case "content":
			doc.Content, ok = d.str()
			return ok && once(seen, 2)
		case "score":
			doc.Score, ok = d.number()
			return ok && once(seen, 4)
		}
		return false
	})
}

// number reads a JSON number literal into a float64.
func (d *jsonScanner) number() (float64, bool) {
	d.ws()
	start := d.i
	j := d.i
	digits := func() int {
		n := 0
		for j < len(d.s) && isDigit(d.s[j]) {
			j++
			n++
		}
		return n
	}
	if j < len(d.s) && d.s[j] == '-' {
		j++
	}
	switch {
	case j < len(d.s) && d.s[j] == '0':
		j++
	case digits() == 0:
		return 0, false
	}
	if j < len(d.s) && d.s[j] == '.' {
		j++
		if digits() == 0 {
			return 0, false
		}
	}
	if j < len(d.s) && (d.s[j] == 'e' || d.s[j] == 'E') {
		j++
		if j < len(d.s) && (d.s[j] == '+' || d.s[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(d.s[start:j], 64)
	if err != nil {
		return 0, false
	}
	d.i = j
	return f, true
}
