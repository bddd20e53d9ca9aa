// Package jsonenc appends JSON strings exactly as encoding/json writes them, for the hot
// paths that build JSON by hand (canonical message lists, stored records) instead of
// marshalling through reflection.
package jsonenc

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
)

// AppendString appends s as a JSON string as an encoding/json Encoder with SetEscapeHTML(false)
// writes it: quotes, backslashes and control characters escaped (\b \f \n \r \t in their short
// forms), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped; everything else as it is.
func AppendString(b []byte, s string) []byte { return appendString(b, s, false) }

// AppendHTMLSafeString is AppendString with <, > and & escaped as well, as json.Marshal writes
// strings.
func AppendHTMLSafeString(b []byte, s string) []byte { return appendString(b, s, true) }

// plainSafe and htmlSafe mark the ASCII bytes written unescaped.
var plainSafe, htmlSafe = safeSets()

func safeSets() (plain, html [utf8.RuneSelf]bool) {
	for c := byte(' '); c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}

// safeRun returns the end of the run of eight-byte blocks of s from i on that are written
// as they are: ASCII, no control byte, quote or backslash, and with html none of < > &.
func safeRun(s string, i int, html bool) int {
	for ; i+8 <= len(s); i += 8 {
		x := swar.Load64(s[i:])
		bad := ^swar.Between(x, 0x1f, 0x80)&swar.MSBs | is(x, '"') | is(x, '\\')
		if html {
			bad |= is(x, '<') | is(x, '>') | is(x, '&')
		}
		if bad != 0 {
			break
		}
	}
	return i
}

// is marks the bytes of x that are c.
func is(x uint64, c uint64) uint64 { return swar.Between(x, c-1, c+1) }

func appendString(b []byte, s string, html bool) []byte {
	const hex = "0123456789abcdef"
	safe := &plainSafe
	if html {
		safe = &htmlSafe
	}
	b = append(b, '"')
	start := 0
	swarAt := 0 // where the next eight-byte pass may start: after the block where one stopped
	for i := 0; i < len(s); {
		// Most text is long runs of safe ASCII: pass them eight bytes at a time.
		if i >= swarAt {
			if i = safeRun(s, i, html); i >= len(s) {
				break
			}
			swarAt = i + 8
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// AppendFloat appends f as encoding/json writes a float64: the shortest form, in exponent
// notation only below 1e-6 or from 1e21 on, a one-digit negative exponent without its leading
// zero. ok is false for NaN and infinities, which encoding/json refuses.
func AppendFloat(b []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, true
}
