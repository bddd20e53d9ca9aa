package store

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Full-text search works on tokens: maximal runs of letters and digits, lower-cased.
// Backends index the tokens of the first IndexedTextBytes of each searchable field and
// verify every candidate with TextQuery.Match, so a stale index entry never shows up as a
// result.
const (
	IndexedTextBytes = 16 << 10
	MaxTokenBytes    = 64
)

type token struct {
	text       string
	start, end int // byte offsets in the source string
}

// asciiWord marks the ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

func tokenize(s string, fn func(t token)) {
	start := -1
	for i := 0; i < len(s); {
		var word bool
		size := 1
		if c := s[i]; c < utf8.RuneSelf { // ASCII fast path
			word = asciiWord[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			word = unicode.IsLetter(r) || unicode.IsDigit(r)
		}
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			emit(s, start, i, fn)
			start = -1
		}
		i += size
	}
	if start >= 0 {
		emit(s, start, len(s), fn)
	}
}

func emit(s string, start, end int, fn func(t token)) {
	t := strings.ToLower(s[start:end])
	if len(t) > MaxTokenBytes {
		t = t[:MaxTokenBytes]
		for len(t) > 0 && !utf8.ValidString(t) {
			t = t[:len(t)-1]
		}
	}
	fn(token{text: t, start: start, end: end})
}

// Tokens lists the distinct tokens of s.
func Tokens(s string) []string {
	seen := map[string]struct{}{}
	var out []string
	tokenize(s, func(t token) {
		if _, ok := seen[t.text]; !ok {
			seen[t.text] = struct{}{}
			out = append(out, t.text)
		}
	})
	return out
}

// SearchFields are the record fields full-text search reads, in highlight order.
func SearchFields(r *Record) [3]struct{ Name, Text string } {
	return [3]struct{ Name, Text string }{
		{"input", r.Input}, {"output", r.Output}, {"expected", string(r.Expected)},
	}
}

// IndexTokens are the distinct tokens a backend indexes for a record.
func IndexTokens(r *Record) []string {
	n := 0
	for _, f := range SearchFields(r) {
		n += min(len(f.Text), IndexedTextBytes)
	}
	seen := make(map[string]struct{}, n/16)
	out := make([]string, 0, n/16)
	for _, f := range SearchFields(r) {
		text := f.Text
		if len(text) > IndexedTextBytes {
			text = text[:IndexedTextBytes]
		}
		tokenize(text, func(t token) {
			if _, ok := seen[t.text]; !ok {
				seen[t.text] = struct{}{}
				out = append(out, t.text)
			}
		})
	}
	return out
}

// TextQuery is a parsed q parameter.
type TextQuery struct {
	// Terms are all distinct tokens of the query, phrases included: every one must occur.
	Terms []string
	// Phrases are token sequences that must occur consecutively within one field.
	Phrases [][]string
}

// Empty reports whether the query has nothing to search for.
func (q TextQuery) Empty() bool { return len(q.Terms) == 0 }

// ParseText reads words and "quoted phrases". An unterminated quote runs to the end.
// Punctuation separates words, as in indexed text.
func ParseText(q string) TextQuery {
	var tq TextQuery
	seen := map[string]bool{}
	add := func(toks []string) {
		for _, t := range toks {
			if !seen[t] {
				seen[t] = true
				tq.Terms = append(tq.Terms, t)
			}
		}
	}
	for q != "" {
		i := strings.IndexByte(q, '"')
		if i < 0 {
			add(tokenList(q))
			break
		}
		add(tokenList(q[:i]))
		rest := q[i+1:]
		j := strings.IndexByte(rest, '"')
		phrase := rest
		if j >= 0 {
			phrase, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
		}
		toks := tokenList(phrase)
		add(toks)
		if len(toks) > 1 {
			tq.Phrases = append(tq.Phrases, toks)
		}
		q = rest
	}
	return tq
}

func tokenList(s string) []string {
	var out []string
	tokenize(s, func(t token) { out = append(out, t.text) })
	return out
}

// Match reports whether every term occurs in some searchable field and every phrase
// occurs within one field.
func (q TextQuery) Match(r *Record) bool {
	if q.Empty() {
		return true
	}
	fields := SearchFields(r)
	var toks [3][]token
	have := map[string]bool{}
	for i, f := range fields {
		tokenize(f.Text, func(t token) {
			toks[i] = append(toks[i], t)
			have[t.text] = true
		})
	}
	for _, t := range q.Terms {
		if !have[t] {
			return false
		}
	}
	for _, p := range q.Phrases {
		found := false
		for i := range toks {
			if len(phraseAt(toks[i], p)) > 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// phraseAt returns the indexes of toks where the phrase starts.
func phraseAt(toks []token, p []string) []int {
	var at []int
	for i := 0; i+len(p) <= len(toks); i++ {
		ok := true
		for j, w := range p {
			if toks[i+j].text != w {
				ok = false
				break
			}
		}
		if ok {
			at = append(at, i)
		}
	}
	return at
}

// Highlight is a snippet of a field around the first match. Ranges are the matches in the
// snippet as [start, end) offsets in UTF-16 code units, the unit JavaScript strings index
// by, so a UI can slice the plain-text snippet and render the parts as text (no markup
// ever travels in the snippet).
type Highlight struct {
	Field   string   `json:"field"`
	Snippet string   `json:"snippet"`
	Ranges  [][2]int `json:"ranges"`
}

// SnippetBytes is the approximate length of a highlight snippet.
const SnippetBytes = 160

// Highlights returns one snippet per searchable field that contains a query term.
func Highlights(r *Record, q TextQuery) []Highlight {
	if q.Empty() {
		return nil
	}
	terms := map[string]bool{}
	for _, t := range q.Terms {
		terms[t] = true
	}
	out := []Highlight{}
	for _, f := range SearchFields(r) {
		var toks []token
		tokenize(f.Text, func(t token) { toks = append(toks, t) })
		var hits [][2]int // byte ranges in f.Text
		covered := make([]bool, len(toks))
		for _, p := range q.Phrases {
			for _, i := range phraseAt(toks, p) {
				hits = append(hits, [2]int{toks[i].start, toks[i+len(p)-1].end})
				for j := i; j < i+len(p); j++ {
					covered[j] = true
				}
			}
		}
		for i, t := range toks {
			if terms[t.text] && !covered[i] {
				hits = append(hits, [2]int{t.start, t.end})
			}
		}
		if len(hits) == 0 {
			continue
		}
		sortRanges(hits)
		out = append(out, snippet(f.Name, f.Text, hits))
	}
	return out
}

func sortRanges(h [][2]int) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j][0] < h[j-1][0]; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

func snippet(field, text string, hits [][2]int) Highlight {
	from := hits[0][0] - SnippetBytes/4
	if from < 0 {
		from = 0
	}
	to := from + SnippetBytes
	if to < hits[0][1] {
		to = hits[0][1]
	}
	if to > len(text) {
		to = len(text)
	}
	for from > 0 && !utf8.RuneStart(text[from]) {
		from--
	}
	for to < len(text) && !utf8.RuneStart(text[to]) {
		to++
	}
	prefix, suffix := "", ""
	if from > 0 {
		prefix = "…"
	}
	if to < len(text) {
		suffix = "…"
	}
	h := Highlight{Field: field, Snippet: prefix + text[from:to] + suffix, Ranges: [][2]int{}}
	base := utf16Len(prefix)
	for _, r := range hits {
		if r[0] < from || r[1] > to {
			continue
		}
		s := base + utf16Len(text[from:r[0]])
		h.Ranges = append(h.Ranges, [2]int{s, s + utf16Len(text[r[0]:r[1]])})
	}
	return h
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
