// Package jsonenc appends JSON strings exactly as encoding/json writes them, for the hot
// paths that build JSON by hand (canonical message lists, stored records) instead of
// marshalling through reflection.
package jsonenc

import "unicode/utf8"

// AppendString appends s as a JSON string as an encoding/json Encoder with SetEscapeHTML(false)
// writes it: quotes, backslashes and control characters escaped (\b \f \n \r \t in their short
// forms), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped; everything else as it is.
func AppendString(b []byte, s string) []byte { return appendString(b, s, &plainSafe) }

// AppendHTMLSafeString is AppendString with <, > and & escaped as well, as json.Marshal writes
// strings.
func AppendHTMLSafeString(b []byte, s string) []byte { return appendString(b, s, &htmlSafe) }

// plainSafe and htmlSafe mark the ASCII bytes written unescaped.
var plainSafe, htmlSafe = safeSets()

func safeSets() (plain, html [utf8.RuneSelf]bool) {
	for c := byte(' '); c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}

func appendString(b []byte, s string, safe *[utf8.RuneSelf]bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
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
