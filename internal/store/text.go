package store

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
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

// asciiClass classifies the ASCII bytes for the tokenizer.
var asciiClass = func() (t [utf8.RuneSelf]byteClass) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = lowerWord
		case 'A' <= c && c <= 'Z':
			t[c] = upperWord
		}
	}
	return t
}()

type byteClass uint8

const (
	separator byteClass = iota
	lowerWord           // part of a word and already its own lower case
	upperWord           // part of a word, lower-cased in its token
)

// tokenize passes on the tokens of s in order.
func tokenize(s string, fn func(t token)) {
	for i := skipSeparators(s, 0); i < len(s); i = skipSeparators(s, i) {
		end, lower := wordEnd(s, i)
		emit(s, i, end, lower, fn)
		i = end
	}
}

// skipSeparators returns the offset of the first letter or digit in s from i on, or len(s).
func skipSeparators(s string, i int) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf { // ASCII fast path
			if asciiClass[c] != separator {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			return i
		}
		i += size
	}
	return i
}

// wordEnd returns the end of the word that starts at i, and whether the word is lower-case
// ASCII, so that it is its own token and emit need not lower-case it (most words are such).
func wordEnd(s string, i int) (end int, lower bool) {
	lower = true
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf { // ASCII fast path
			class := asciiClass[c]
			if class == separator {
				return i, lower
			}
			lower = lower && class == lowerWord
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			return i, lower
		}
		lower = false
		i += size
	}
	return i, lower
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// emit passes on the token of the word s[start:end]; lower says the word is lower-case ASCII.
func emit(s string, start, end int, lower bool, fn func(t token)) {
	fn(token{text: tokenText(s, start, end, lower), start: start, end: end})
}

// tokenText is the token of the word s[start:end]; lower says the word is lower-case ASCII.
func tokenText(s string, start, end int, lower bool) string {
	t := s[start:end]
	if !lower {
		t = strings.ToLower(t)
	}
	if len(t) > MaxTokenBytes {
		t = t[:MaxTokenBytes]
		for len(t) > 0 && !utf8.ValidString(t) {
			t = t[:len(t)-1]
		}
	}
	return t
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
	set := newTokenSet(n / 16)
	for _, f := range SearchFields(r) {
		text := f.Text
		if len(text) > IndexedTextBytes {
			text = text[:IndexedTextBytes]
		}
		set.addText(text)
	}
	set.release()
	return set.tokens
}

// addText adds the tokens of text. It is tokenize with the common case done 8 bytes at a
// time: a lower-case ASCII word of at most 7 bytes followed by an ASCII separator is its own
// token, found with one load (lowerWordBytes) and hashed and compared as its pack
// (BenchmarkIndexTokens: 20.4 → 13.5 µs a record).
func (s *tokenSet) addText(text string) {
	for i := skipSeparators(text, 0); i < len(text); i = skipSeparators(text, i) {
		if i+8 <= len(text) {
			w := swar.Load64(text[i:])
			if n := lowerWordBytes(w); n < 8 {
				if c := text[i+n]; c < utf8.RuneSelf && asciiClass[c] == separator {
					s.addPacked(text[i:i+n], w&(1<<(8*n)-1))
					i += n + 1
					continue
				}
			}
		}
		end, lower := wordEnd(text, i)
		s.add(tokenText(text, i, end, lower))
		i = end
	}
}

// lowerWordBytes is how many of w's bytes, from the first (lowest) on, are ASCII lower-case
// letters or digits: 8 when all are.
func lowerWordBytes(w uint64) int {
	word := swar.Between(w, 'a'-1, 'z'+1) | swar.Between(w, '0'-1, '9'+1)
	return bits.TrailingZeros64(^word&swar.MSBs) / 8
}

// tokenSet collects distinct tokens in the order they first appear. It does the work of a
// map[string]struct{} beside the slice, for less: its hash table holds positions in the
// slice, so it is a single allocation without pointers, cheap to clear and never scanned by
// the garbage collector, and a lookup is one hash and usually one comparison.
//
// Tokens of up to 8 bytes (most words) are also kept packed into a uint64, their bytes in
// order and zeros after them: no token holds a zero byte, so equal packs mean equal tokens,
// and such a token is hashed by one multiplication and compared as one integer.
type tokenSet struct {
	tokens []string
	// packs holds each token's pack, or 0 for a longer token; it is parallel to tokens.
	packs []uint64
	// slots is an open-addressing table (linear probing, at most half full) of 1 + the
	// index in tokens, 0 for a free slot; its length is a power of two.
	slots []uint32
	// shift is 64 - log2(len(slots)): a pack's slot is the top bits of its mix.
	shift uint
	// pooled holds the tables between sets (see tokenScratchPool).
	pooled *tokenScratch
}

// tokenScratch is what a tokenSet keeps between uses: its hash table and packs.
type tokenScratch struct {
	slots []uint32
	packs []uint64
}

var tokenSeed = maphash.MakeSeed()

// packMul and packXor key the hash of packed tokens (multiply-shift with a random odd
// multiplier), so that colliding words cannot be chosen ahead to make a record slow to index.
var packMul, packXor = func() (uint64, uint64) {
	var h maphash.Hash
	h.SetSeed(tokenSeed)
	h.WriteString("packMul")
	m := h.Sum64() | 1
	h.WriteString("packXor")
	return m, h.Sum64()
}()

// tokenScratchPool recycles the sets' tables, which do not outlive IndexTokens (the tokens
// do): one per record, 4 bytes a slot and two slots a token or more (BenchmarkIndexTokens:
// 5.2 → 3.1 KB allocated per record).
var tokenScratchPool = sync.Pool{New: func() any { return new(tokenScratch) }}

// maxPooledSlots bounds the tables kept for reuse (256 KB of slots).
const maxPooledSlots = 1 << 16

// newTokenSet makes a set with room for about sizeHint tokens; release hands its table back.
func newTokenSet(sizeHint int) *tokenSet {
	n := 16
	for n < 2*sizeHint {
		n *= 2
	}
	sc := tokenScratchPool.Get().(*tokenScratch)
	s := &tokenSet{tokens: make([]string, 0, sizeHint), pooled: sc, packs: sc.packs[:0]}
	if cap(sc.slots) >= n {
		s.slots = sc.slots[:n]
		clear(s.slots)
	} else {
		s.slots = make([]uint32, n)
	}
	s.shift = uint(64 - bits.TrailingZeros(uint(n)))
	return s
}

// release hands the set's tables back for another set; the set takes no more tokens.
func (s *tokenSet) release() {
	if cap(s.slots) <= maxPooledSlots {
		s.pooled.slots = s.slots[:0]
		s.pooled.packs = s.packs[:0]
	}
	tokenScratchPool.Put(s.pooled)
	s.pooled, s.slots, s.packs = nil, nil, nil
}

// pack is t's pack, or 0 when t is longer than 8 bytes.
func pack(t string) uint64 {
	if len(t) > 8 {
		return 0
	}
	var w uint64
	for j := len(t) - 1; j >= 0; j-- {
		w = w<<8 | uint64(t[j])
	}
	return w
}

// add appends t to the tokens unless it is there already.
func (s *tokenSet) add(t string) {
	if p := pack(t); p != 0 {
		s.addPacked(t, p)
		return
	}
	i := s.slot(t)
	if s.slots[i] != 0 {
		return
	}
	s.insert(i, t, 0)
}

// addPacked is add for a token of at most 8 bytes, given its pack.
func (s *tokenSet) addPacked(t string, p uint64) {
	i := s.packedSlot(p)
	if s.slots[i] != 0 {
		return
	}
	s.insert(i, t, p)
}

func (s *tokenSet) insert(i uint64, t string, p uint64) {
	s.tokens = append(s.tokens, t)
	s.packs = append(s.packs, p)
	s.slots[i] = uint32(len(s.tokens))
	if 2*len(s.tokens) > len(s.slots) {
		s.grow()
	}
}

// slot is the index in slots that holds t, a token longer than 8 bytes, or the free one
// where it goes.
func (s *tokenSet) slot(t string) uint64 {
	mask := uint64(len(s.slots) - 1)
	i := maphash.String(tokenSeed, t) & mask
	for at := s.slots[i]; at != 0 && (s.packs[at-1] != 0 || s.tokens[at-1] != t); at = s.slots[i] {
		i = (i + 1) & mask
	}
	return i
}

// packedSlot is slot for the token packed as p.
func (s *tokenSet) packedSlot(p uint64) uint64 {
	mask := uint64(len(s.slots) - 1)
	i := ((p ^ packXor) * packMul) >> s.shift
	for at := s.slots[i]; at != 0 && s.packs[at-1] != p; at = s.slots[i] {
		i = (i + 1) & mask
	}
	return i
}

// grow doubles the table and puts every token back in.
func (s *tokenSet) grow() {
	s.slots = make([]uint32, 2*len(s.slots))
	s.shift--
	for j, t := range s.tokens {
		if p := s.packs[j]; p != 0 {
			s.slots[s.packedSlot(p)] = uint32(j + 1)
		} else {
			s.slots[s.slot(t)] = uint32(j + 1)
		}
	}
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
