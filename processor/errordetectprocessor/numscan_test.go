package errordetectprocessor

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The patterns the scanners implement; the scanners must agree with them on every input.
var (
	numberPattern = regexp.MustCompile(`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`)
	clockPattern  = regexp.MustCompile(`\b([01]?\d|2[0-3])[:h]([0-5]\d)\b`)
)

func regexNumbers(s string) [][2]int {
	var out [][2]int
	for _, loc := range numberPattern.FindAllStringIndex(s, -1) {
		out = append(out, [2]int{loc[0], loc[1]})
	}
	return out
}

func regexTimes(s string) []string {
	var out []string
	for _, m := range clockPattern.FindAllStringSubmatch(s, -1) {
		h := strings.TrimLeft(m[1], "0")
		if h == "" {
			h = "0"
		}
		out = append(out, h+":"+m[2])
	}
	return out
}

var scannerCases = []string{
	"", "7", "1,234", "1,234,567.89", "12,34", "1234,567", "1,2345", "1,234,5678", "1.5.3", "1,234.", "3.14 and 2,000 people",
	"version 10.2.3 of 2024", "0042", "a1b2", "$1,299.00/mo", ",123", "1,23,456",
	"09:30", "9:05", "21:30", "24:00", "25:10", "123:45", "10:20:30", "2h30", "14h05", "ah05", "7:5", "7:60", "1:234",
	"at 08:15, 12:45 and 23:59.", "x9:30", "9:30x", "_9:30", "0:00", "00:00", "19h30m", "3:45:12 pm",
}

func TestScanners_AgreeWithPatterns(t *testing.T) {
	for _, s := range scannerCases {
		if got, want := fmt.Sprint(numberSpans(s)), fmt.Sprint(regexNumbers(s)); got != want {
			t.Errorf("numberSpans(%q) = %s, want %s", s, got, want)
		}
		if got, want := fmt.Sprint(clockTimes(s)), fmt.Sprint(regexTimes(s)); got != want {
			t.Errorf("clockTimes(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzScanners(f *testing.F) {
	for _, s := range scannerCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fmt.Sprint(numberSpans(s)), fmt.Sprint(regexNumbers(s)); got != want {
			t.Fatalf("numberSpans(%q) = %s, want %s", s, got, want)
		}
		if got, want := fmt.Sprint(clockTimes(s)), fmt.Sprint(regexTimes(s)); got != want {
			t.Fatalf("clockTimes(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkScanners(b *testing.B) {
	text := strings.Repeat("The order 1,234 shipped at 09:30 on day 12 of 2024; total $1,299.00 and 3.5 kg. ", 200)
	b.Run("scanner", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = numberSpans(text)
			_ = clockTimes(text)
		}
	})
	b.Run("regexp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = regexNumbers(text)
			_ = regexTimes(text)
		}
	})
}
