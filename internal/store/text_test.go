package store

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// referenceTokens is the tokenizer's definition without its ASCII fast path: maximal runs of
// letters and digits, by rune.
func referenceTokens(s string) []token {
	var out []token
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			emit(s, start, i, func(t token) { out = append(out, t) })
			start = -1
		}
	}
	if start >= 0 {
		emit(s, start, len(s), func(t token) { out = append(out, t) })
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
	for _, s := range []string{"Hello, World!", "naïve café", "東京タワー 2024", "a\xffb", "ÀB9ç\u0301d", "x\u00a0y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := tokensOf(s), referenceTokens(s)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tokenize(%q) = %+v, reference %+v", s, got, want)
		}
	})
}
