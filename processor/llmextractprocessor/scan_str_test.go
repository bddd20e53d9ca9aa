package llmextractprocessor

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// referenceStr is jsonReader.str as first written, byte by byte: the definition the
// quote-to-quote version is held to.
func referenceStr(r *jsonReader) (string, bool) {
	r.ws()
	if r.i >= len(r.s) || r.s[r.i] != '"' {
		return "", false
	}
	start := r.i
	escaped := false
	for j := r.i + 1; j < len(r.s); j++ {
		switch r.s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			r.i = j + 1
			if raw := r.s[start+1 : j]; !escaped && utf8.ValidString(raw) {
				return raw, true
			}
			var out string
			if json.Unmarshal([]byte(r.s[start:j+1]), &out) != nil {
				return "", false
			}
			return out, true
		}
	}
	return "", false
}

func FuzzJSONStr(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b" rest`, `"a\\"`, `"a\\\"b"`, `"\u00e9\n"`, `"bad \xff"`, `"unterminated`, `"ends\`, ` "x"`, `"\"`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b := &jsonReader{s: s}, &jsonReader{s: s}
		gv, gok := a.str()
		wv, wok := referenceStr(b)
		if gv != wv || gok != wok || (gok && a.i != b.i) {
			t.Fatalf("str(%q) = %q, %v, at %d; reference %q, %v, at %d", s, gv, gok, a.i, wv, wok, b.i)
		}
	})
}
