package errordetectprocessor

import (
	"slices"
	"testing"
)

func TestWords_SplitsLatinAndCJKBigrams(t *testing.T) {
	got := words("Don’t panic: 长城很长, ok?")
	want := []string{"don't", "panic", "长城", "城很", "很长", "ok"}
	if !slices.Equal(got, want) {
		t.Errorf("words = %q, want %q", got, want)
	}
}

func TestStem_MergesInflections(t *testing.T) {
	for _, pair := range [][2]string{{"refunds", "refunded"}, {"australia", "australian"}, {"stoicism", "stoic"}, {"cards", "card"}} {
		if stem(pair[0]) != stem(pair[1]) {
			t.Errorf("stem(%q)=%q, stem(%q)=%q", pair[0], stem(pair[0]), pair[1], stem(pair[1]))
		}
	}
}

func TestNormalizeWithOffsets_MapsBackToOriginal(t *testing.T) {
	in := "Hello,\n\n  I’M  Sorry"
	norm, offs := normalizeWithOffsets(in, true)
	if norm != "hello, i'm sorry" {
		t.Fatalf("norm = %q", norm)
	}
	if len(offs) != len(norm)+1 {
		t.Fatalf("%d offsets for %d bytes", len(offs), len(norm))
	}
	i := len("hello, i'm ")
	if in[offs[i]:offs[i]+5] != "Sorry" {
		t.Errorf("offset of %q maps to %q", norm[i:], in[offs[i]:])
	}
}

func TestTruncate_RuneSafe(t *testing.T) {
	if got := truncate("ääääää", 4); got != "äää…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate(" short ", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
}

func TestNumbers_NormalizationAndClaims(t *testing.T) {
	tests := []struct {
		in         string
		claimsOnly bool
		want       []string
	}{
		{"$1,200.50 and 0.80 and 007", false, []string{"1200.5", "0.8", "7"}},
		{"$1,200.50 and 0.80 and 007", true, []string{"1200.5", "0.8"}},
		{"1. Open gpt-4o settings\n2. Pick 3 of 45 items", true, []string{"45"}},
		{"see https://x.io/a/123456 or call 2025", true, []string{"2025"}},
	}
	for _, tt := range tests {
		if got := extractNumbers(tt.in, tt.claimsOnly); !slices.Equal(got, tt.want) {
			t.Errorf("extractNumbers(%q, %v) = %q, want %q", tt.in, tt.claimsOnly, got, tt.want)
		}
	}
}

func TestLuhn(t *testing.T) {
	for d, want := range map[string]bool{"4539578763621486": true, "4242424242424242": true, "1234567812345678": false, "9780306406157": false} {
		if luhn(d) != want {
			t.Errorf("luhn(%s) = %v", d, !want)
		}
	}
}

func TestExtractTimes(t *testing.T) {
	got := extractTimes("opens 09:00, closes 21h30, not 3.14 or 25:00, midnight 00:15")
	want := []string{"9:00", "21:30", "0:15"}
	if !slices.Equal(got, want) {
		t.Errorf("times = %q, want %q", got, want)
	}
}
