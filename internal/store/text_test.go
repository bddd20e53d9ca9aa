package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
)

// referenceTokens is the tokenizer's definition without its ASCII fast paths: maximal runs of
// letters and digits, by rune, lower-cased, cut to MaxTokenBytes at a rune boundary.
func referenceTokens(s string) []token {
	var out []token
	emit := func(start, end int) {
		t := strings.ToLower(s[start:end])
		if len(t) > MaxTokenBytes {
			t = t[:MaxTokenBytes]
			for len(t) > 0 && !utf8.ValidString(t) {
				t = t[:len(t)-1]
			}
		}
		out = append(out, token{text: t, start: start, end: end})
	}
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			emit(start, i)
			start = -1
		}
	}
	if start >= 0 {
		emit(start, len(s))
	}
	return out
}

func tokensOf(s string) []token {
	var out []token
	tokenize(s, func(t token) { out = append(out, t) })
	return out
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello, World! 42x", []string{"hello", "world", "42x"}},
		{"naïve café — Ünïcode", []string{"naïve", "café", "ünïcode"}},
		{"東京 tower_7", []string{"東京", "tower", "7"}},
		{"bad \xff\xfe bytes", []string{"bad", "bytes"}},
		{"", nil},
		{"MiXeD case ÄRGER abcÉ", []string{"mixed", "case", "ärger", "abcé"}},
		{"İstanbul Ⱥb", []string{"istanbul", "ⱥb"}},
		{strings.Repeat("A", 70), []string{strings.Repeat("a", MaxTokenBytes)}},
		{strings.Repeat("ab", 31) + "Ⱥ", []string{strings.Repeat("ab", 31)}},
		{strings.Repeat("a", 70), []string{strings.Repeat("a", MaxTokenBytes)}},
	}
	for _, tt := range tests {
		var got []string
		for _, tok := range tokensOf(tt.in) {
			got = append(got, tok.text)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzTokenize holds the ASCII fast path to the rune-by-rune definition.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"Hello, World!", "naïve café", "東京タワー 2024", "a\xffb", "ÀB9ç\u0301d", "x\u00a0y", "abc DEF ghI Jkl", "ok é OK"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := tokensOf(s), referenceTokens(s)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tokenize(%q) = %+v, reference %+v", s, got, want)
		}
	})
}

// referenceIndexTokens is IndexTokens by the tokenizer's definition, with a map for the
// distinct tokens.
func referenceIndexTokens(r *Record) []string {
	var all []token
	for _, f := range SearchFields(r) {
		all = append(all, referenceTokens(f.Text[:min(len(f.Text), IndexedTextBytes)])...)
	}
	return distinctTexts(all)
}

// distinctTexts are the texts of toks, each once, in the order they first appear.
func distinctTexts(toks []token) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range toks {
		if !seen[t.text] {
			seen[t.text] = true
			out = append(out, t.text)
		}
	}
	return out
}

// manyWords is n distinct words, some upper-case, some repeated.
func manyWords(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%d W%d, w%d ", i, i/2, i/3)
	}
	return b.String()
}

func TestIndexTokens(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"empty", Record{}},
		{"repeats across fields", Record{Input: "Hello hello HELLO", Output: "hello, World", Expected: "world WORLD"}},
		{"more distinct tokens than the size guess", Record{Input: manyWords(3000), Output: manyWords(100)}},
		{"past the indexed prefix", Record{Input: strings.Repeat("a ", IndexedTextBytes) + "unindexed", Output: "indexed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := IndexTokens(&tt.rec), referenceIndexTokens(&tt.rec); !slices.Equal(got, want) {
				t.Errorf("IndexTokens = %q,\nreference %q", got, want)
			}
		})
	}
}

// FuzzIndexTokens holds IndexTokens to the tokenizer's definition and a map.
func FuzzIndexTokens(f *testing.F) {
	f.Add("Hello hello HELLO", "world, World", "")
	f.Add(manyWords(20), "naïve café", "東京 tower_7 ÀB9ç\u0301d")
	f.Add("the quick brown fox, jumps over THE lazy dog 1234567 abcdefgh abcdefghi", "ab\xffcd abc\u00e9 x.y-z", "abcdefg\u00e9 abcdefgH")
	f.Fuzz(func(t *testing.T, input, output, expected string) {
		r := &Record{Input: input, Output: output, Expected: OptString(expected)}
		if got, want := IndexTokens(r), referenceIndexTokens(r); !slices.Equal(got, want) {
			t.Fatalf("IndexTokens = %q,\nreference %q", got, want)
		}
	})
}

// TestLowerWordBytes checks the SWAR count against a byte loop for every byte value at every
// position, among lower-case letters, digits, and bytes that carry (0xff).
func TestLowerWordBytes(t *testing.T) {
	want := func(b []byte) int {
		for i, c := range b {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
				return i
			}
		}
		return len(b)
	}
	for _, fill := range []byte{'a', 'z', '0', '9', 0xff, 'Z'} {
		for pos := range 8 {
			for v := range 256 {
				b := []byte(strings.Repeat(string(rune('m')), 8))
				for i := pos + 1; i < 8; i++ {
					b[i] = fill
				}
				b[pos] = byte(v)
				if got := lowerWordBytes(swar.Load64(string(b))); got != want(b) {
					t.Fatalf("lowerWordBytes(%q) = %d, want %d", b, got, want(b))
				}
			}
		}
	}
}
