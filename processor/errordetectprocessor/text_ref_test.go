package errordetectprocessor

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The straightforward versions of words and normalizeWithOffsets; the optimized ones must
// agree with them on every input.

// wordsReference splits text into lower-case word tokens (letters and digits). Runs of CJK
// characters, which have no spaces, become overlapping character bigrams so that they can
// be compared like words.
func wordsReference(s string) []string {
	var out []string
	var b strings.Builder
	var cjk []rune
	flushWord := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	flushCJK := func() {
		switch {
		case len(cjk) == 1:
			out = append(out, string(cjk))
		case len(cjk) > 1:
			for i := 0; i+1 < len(cjk); i++ {
				out = append(out, string(cjk[i:i+2]))
			}
		}
		cjk = cjk[:0]
	}
	for _, r := range s {
		switch {
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case r < utf8.RuneSelf && (('a' <= r && r <= 'z') || ('0' <= r && r <= '9')):
			flushCJK()
			b.WriteByte(byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			flushCJK()
			b.WriteByte(byte(r) + 'a' - 'A')
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			flushCJK()
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// keep contractions in one token: don't, l'eau
			if b.Len() > 0 {
				b.WriteRune('\'')
			}
		default:
			flushWord()
			flushCJK()
		}
	}
	flushWord()
	flushCJK()
	return out
}

// normalizeReference is normalizeSpace that can also return, for every byte of the
// result, the offset of the original byte it came from (plus one entry for the end), so
// that evidence can quote the original text.
func normalizeReference(s string, withOffsets bool) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	var offs []int
	if withOffsets {
		offs = make([]int, 0, len(s)+1)
	}
	space := false
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == '’' || r == '‘' || r == '`':
			r = '\''
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			if withOffsets {
				offs = append(offs, i)
			}
		}
		space = false
		before := b.Len()
		b.WriteRune(unicode.ToLower(r))
		if withOffsets {
			for k := before; k < b.Len(); k++ {
				offs = append(offs, i)
			}
		}
	}
	if withOffsets {
		offs = append(offs, len(s))
	}
	return b.String(), offs
}

var textCases = []string{
	"abcdefgh ijklmnop", "abcdefg  hijklmno", "abcdefgh  ijk", "abcdefg\x7f hij", "abcdefgh@[`{ab", "abcdefghijklmno\x1f",
	"", " ", "a", "Don’t panic: 长城很长, ok?", "  Hello,\n\n  I’M  Sorry  ", "it's", "'tis", "ab''cd", "中'文", "中’文",
	"ÀÉÎ õü", "ǅungla", "\xff\xfeabc", "a\u00a0b\u0085c", "x\ty\vz\f", "`code` ‘quoted’", "ÉCOLE école", "İstanbul",
	"word word word ", "abc Def", "abc d'ef", "abcdefgh ijklmno pq", "abcdefg hijklmnopqrst u1 23 ", "ab cd ef gh,ij.kl", "abcdefghAb cd", "abcdefgh ab'cd ef", "ab é", "ab,Cd", "x' y", "ab cd’", "ab1 2cd,, ef", "ab\x80", "trailing   ", "two  spaces", "1st 2nd 3RD", "ERROR: x", "Error -", "\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a\u212a", "TRACEBACK (MOST RECENT CALL LAST)", "/09:/0123456789:\x80\xb0\xb9", "日本語のテキスト abc 한국어", "a’", "’a", "K ſ",
}

func TestText_AgreesWithReference(t *testing.T) {
	for _, s := range textCases {
		checkText(t, s)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range textCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkText(t, s) })
}

func checkText(t *testing.T, s string) {
	t.Helper()
	// Padded copies put the bytes of s in every position of the eight-byte blocks.
	for _, x := range []string{s, " " + s, "ab" + s, "abc" + s + "de", "abcd" + s, "abc de" + s + "fgh", "abcdefgh" + s, "abcdefg " + s} {
		if got, want := words(x), wordsReference(x); !slices.Equal(got, want) {
			t.Errorf("words(%q) = %q, want %q", x, got, want)
		}
		got, gotOK := alreadyNormal(x)
		want, wantOK := alreadyNormalReference(x)
		if got != want || gotOK != wantOK {
			t.Errorf("alreadyNormal(%q) = %q %v, want %q %v", x, got, gotOK, want, wantOK)
		}
		if got, want := hasToolErrorPrefix(x), hasToolErrorPrefixReference(x); got != want {
			t.Errorf("hasToolErrorPrefix(%q) = %v, want %v", x, got, want)
		}
		for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 20} {
			if got, want := runesOver(x, n), utf8.RuneCountInString(x) > n; got != want {
				t.Errorf("runesOver(%q, %d) = %v, want %v", x, n, got, want)
			}
		}
		if got, want := countDigits(x), countDigitsReference(x); got != want {
			t.Errorf("countDigits(%q) = %d, want %d", x, got, want)
		}
		if got, want := mayHaveUpper(x), strings.ContainsFunc(x, func(r rune) bool { return r >= utf8.RuneSelf || ('A' <= r && r <= 'Z') }); got != want {
			t.Errorf("mayHaveUpper(%q) = %v, want %v", x, got, want)
		}
	}
	for _, withOffsets := range []bool{false, true} {
		got, gotOffs := normalizeWithOffsets(s, withOffsets)
		want, wantOffs := normalizeReference(s, withOffsets)
		if got != want || !slices.Equal(gotOffs, wantOffs) {
			t.Errorf("normalizeWithOffsets(%q, %v) = %q %v, want %q %v", s, withOffsets, got, gotOffs, want, wantOffs)
		}
	}
}

// alreadyNormalReference is alreadyNormal one byte at a time.
func alreadyNormalReference(s string) (string, bool) {
	t := strings.TrimRight(s, " ")
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || c == '`' || ('\t' <= c && c <= '\r') ||
			(c == ' ' && (i == 0 || t[i-1] == ' ')) {
			return "", false
		}
	}
	return t, true
}

// countDigitsReference is countDigits one byte at a time.
func countDigitsReference(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			n++
		}
	}
	return n
}

// hasToolErrorPrefixReference lower-cases the whole text.
func hasToolErrorPrefixReference(s string) bool {
	ls := strings.ToLower(s)
	for _, p := range toolErrorPrefixes {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	return false
}
