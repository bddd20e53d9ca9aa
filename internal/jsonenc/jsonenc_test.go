package jsonenc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func marshalPlain(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func marshalHTML(t testing.TB, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkBoth(t testing.TB, s string) {
	if got, want := AppendString([]byte("x"), s), append([]byte("x"), marshalPlain(t, s)...); !bytes.Equal(got, want) {
		t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
	}
	if got, want := AppendHTMLSafeString(nil, s), marshalHTML(t, s); !bytes.Equal(got, want) {
		t.Fatalf("AppendHTMLSafeString(%q) = %s, json.Marshal %s", s, got, want)
	}
}

func TestAppendString_MatchesEncodingJSON(t *testing.T) {
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	for _, s := range []string{
		"", "plain text", `quote " and \ backslash`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<b>&amp;</b>",
		"héllo ✓ 日本 😀", "bad \xff\xfe utf8", "cut \xe2\x80", "line\u2028sep\u2029end", all.String(),
	} {
		checkBoth(t, s)
	}
	// Every byte value at every offset of a long safe run, so the eight-byte pass must stop
	// at each one.
	for c := range 256 {
		for at := range 17 {
			b := []byte(strings.Repeat("safe text ", 2))
			b[at] = byte(c)
			checkBoth(t, string(b))
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain")
	f.Add("<script>\"\\\n\u2028\xff")
	f.Add("a longer run of safe text, then <b> and a \"quote\" and\ttab \xe2\x80\xa8 and more text")
	f.Fuzz(func(t *testing.T, s string) { checkBoth(t, s) })
}

func BenchmarkAppendHTMLSafeString(b *testing.B) {
	s := strings.Repeat("the customer asked about the refund policy, and the agent answered.\n", 40)
	b.SetBytes(int64(len(s)))
	buf := make([]byte, 0, 2*len(s))
	for range b.N {
		buf = AppendHTMLSafeString(buf[:0], s)
	}
}
