package errordetectprocessor

import (
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
)

// words splits text into lower-case word tokens (letters and digits). Runs of CJK
// characters, which have no spaces, become overlapping character bigrams so that they can
// be compared like words. A token spelled in s as it is returned (lower-case, straight
// apostrophes) is a substring of s rather than a copy.
func words(s string) []string {
	return appendWords(make([]string, 0, len(s)/6+1), s)
}

// wordBufPool holds word slices for callers that only read the words of a text while
// they run.
var wordBufPool = sync.Pool{New: func() any { return new([]string) }}

// wordByteKinds classifies bytes for appendWords' ASCII scan, one bit per kind; 0 is a
// separator.
var wordByteKinds = func() (t [256]uint8) {
	for c := range t {
		switch b := byte(c); {
		case lowerAlnum(b):
			t[c] = lowerByte
		case 'A' <= b && b <= 'Z':
			t[c] = upperByte
		case b == '\'':
			t[c] = apostropheByte
		case b >= utf8.RuneSelf:
			t[c] = nonASCIIByte
		}
	}
	return t
}()

const (
	lowerByte = 1 << iota
	upperByte
	apostropheByte
	nonASCIIByte
)

// appendWords appends the words of s to out. While the text is lower-case ASCII letters
// and digits between separators (no capital, apostrophe or non-ASCII byte), it reads eight
// bytes at a time: the words are the runs of letters and digits, found where a byte and
// the one before it differ in being one; a branch per byte mispredicted at every word's
// end. From the first other block on, appendASCIIWords takes over at the start of the
// word in progress, or of the block, where its state is its initial one.
func appendWords(out []string, s string) []string {
	i, start := 0, -1 // start of the word in progress, or -1
	var prev uint64   // bit 7 set when the byte before the block is a letter or digit
	for ; i+8 <= len(s); i += 8 {
		x := swar.Load64(s[i:])
		if x&swar.MSBs|swar.Between(x, 'A'-1, 'Z'+1)|swar.Between(x, '\''-1, '\''+1) != 0 {
			break
		}
		word := swar.Between(x, 'a'-1, 'z'+1) | swar.Between(x, '0'-1, '9'+1)
		for t := (word ^ (word<<8 | prev)) & swar.MSBs; t != 0; t &= t - 1 {
			b := bits.TrailingZeros64(t)
			if word&(1<<b) != 0 {
				start = i + b>>3
			} else {
				out = append(out, s[start:i+b>>3])
				start = -1
			}
		}
		prev = word >> 56
	}
	if start >= 0 {
		i = start
	}
	return appendASCIIWords(out, s[i:])
}

// appendASCIIWords appends the words of s to out. In ASCII text a word is a run of letters,
// digits and apostrophes between separators, less the apostrophes before its first letter
// or digit; the run is the word as written unless it has capitals. From the first run with
// a non-ASCII byte on, the general scan takes over: it starts there in its initial state.
func appendASCIIWords(out []string, s string) []string {
	for i := 0; i < len(s); {
		if wordByteKinds[s[i]] == 0 {
			i++
			continue
		}
		j, kinds := i, uint8(0)
		for ; j < len(s) && wordByteKinds[s[j]] != 0; j++ {
			kinds |= wordByteKinds[s[j]]
		}
		if kinds&nonASCIIByte != 0 {
			return appendWordsGeneral(out, s[i:])
		}
		w := s[i:j]
		if kinds&apostropheByte != 0 {
			w = strings.TrimLeft(w, "'")
		}
		if kinds&upperByte != 0 {
			w = lowerASCII(w)
		}
		if w != "" {
			out = append(out, w)
		}
		i = j
	}
	return out
}

// lowerASCII lower-cases ASCII letters. Unlike strings.ToLower it returns a one-byte
// result ("I", "A") without allocating.
func lowerASCII(w string) string {
	b := []byte(w)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// appendWordsGeneral appends the words of s to out, for any text.
func appendWordsGeneral(out []string, s string) []string {
	// The current word is s[wstart:wend], or buf once it differs from s; wstart < 0 when
	// there is none.
	wstart, wend := -1, -1
	built := false
	var buf []byte
	var cjk []rune
	flushWord := func() {
		if wstart >= 0 {
			if built {
				out = append(out, string(buf))
			} else {
				out = append(out, s[wstart:wend])
			}
			wstart = -1
		}
	}
	// build switches the current word to buf, starting one at i if there is none.
	build := func(i int) {
		switch {
		case wstart < 0:
			wstart, built, buf = i, true, buf[:0]
		case !built:
			built, buf = true, append(buf[:0], s[wstart:wend]...)
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
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case lowerAlnum(c):
				if len(cjk) > 0 {
					flushCJK()
				}
				j := i + 1
				for j < len(s) && lowerAlnum(s[j]) {
					j++
				}
				if wstart < 0 {
					wstart, built = i, false
				}
				if built {
					buf = append(buf, s[i:j]...)
				}
				wend = j
				i = j
				continue
			case 'A' <= c && c <= 'Z':
				if len(cjk) > 0 {
					flushCJK()
				}
				build(i)
				buf = append(buf, c+'a'-'A')
			case c == '\'':
				// keep contractions in one token: don't, l'eau
				if wstart >= 0 {
					if built {
						buf = append(buf, c)
					}
					wend = i + 1
				}
			default:
				flushWord()
				flushCJK()
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushCJK()
			if l := unicode.ToLower(r); l != r {
				build(i)
				buf = utf8.AppendRune(buf, l)
			} else {
				// A letter or digit is never utf8.RuneError, so s holds its encoding.
				if wstart < 0 {
					wstart, built = i, false
				}
				if built {
					buf = append(buf, s[i:i+size]...)
				}
				wend = i + size
			}
		case r == '’':
			if wstart >= 0 {
				build(i)
				buf = append(buf, '\'')
			}
		default:
			flushWord()
			flushCJK()
		}
		i += size
	}
	flushWord()
	flushCJK()
	return out
}

func lowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }

func isCJK(r rune) bool {
	// Every CJK script starts at or above Hangul Jamo (U+1100): most text never reaches the
	// table lookups.
	if r < 0x1100 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// stem is a light, language-neutral stemmer: the first five runes of a word after
// removing a contraction tail. "refunds", "refunded" and "refunding" share "refun";
// "australia" and "australian" share "austr". It merges some unrelated words, which only
// makes the overlap checks more lenient.
func stem(w string) string {
	if i := strings.IndexByte(w, '\''); i > 0 {
		w = w[:i]
	}
	if utf8.RuneCountInString(w) <= 5 {
		return strings.TrimSuffix(w, "s")
	}
	n := 0
	for i := range w {
		if n == 5 {
			return w[:i]
		}
		n++
	}
	return w
}

// keyTerms returns the stemmed content words of s: stopwords, request verbs and
// one-letter tokens removed.
func keyTerms(s string) map[string]struct{} {
	out := map[string]struct{}{}
	buf := wordBufPool.Get().(*[]string)
	ws := appendWords((*buf)[:0], s)
	defer func() {
		clear(ws)
		*buf = ws[:0]
		wordBufPool.Put(buf)
	}()
	for _, w := range ws {
		if _, stop := stopwords[w]; stop {
			continue
		}
		if utf8.RuneCountInString(w) < 2 && !isCJK([]rune(w)[0]) {
			continue
		}
		if isNumber(w) {
			continue
		}
		out[stem(w)] = struct{}{}
	}
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}

// overlap is |a∩b| / |a|.
func overlap(a, b map[string]struct{}) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for t := range a {
		if _, ok := b[t]; ok {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// runesOver reports whether s has more than n >= 0 runes, as utf8.RuneCountInString counts
// them (an invalid byte is one), reading no further than the (n+1)th rune.
func runesOver(s string, n int) bool {
	if len(s) <= n {
		return false
	}
	if asciiOnly(s[:n+1]) {
		return true
	}
	count := 0
	for range s {
		if count++; count > n {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n runes, ending in "…" when cut, at a rune boundary.
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// normalizeSpace lower-cases s, folds typographic apostrophes and collapses whitespace,
// so that phrase matching does not depend on formatting.
func normalizeSpace(s string) string {
	n, _ := normalizeWithOffsets(s, false)
	return n
}

// normalizeWithOffsets is normalizeSpace that can also return, for every byte of the
// result, the offset of the original byte it came from (plus one entry for the end), so
// that evidence can quote the original text.
func normalizeWithOffsets(s string, withOffsets bool) (string, []int) {
	if !withOffsets {
		if t, ok := alreadyNormal(s); ok {
			return t, nil
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	var offs []int
	if withOffsets {
		offs = make([]int, 0, len(s)+1)
	}
	space := false
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case asciiSpace(c):
				space = true
				i++
				continue
			case c == '`':
				c = '\''
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
				if withOffsets {
					offs = append(offs, i)
				}
			}
			space = false
			b.WriteByte(c)
			if withOffsets {
				offs = append(offs, i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			space = true
			i += size
			continue
		case r == '’' || r == '‘':
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
		i += size
	}
	if withOffsets {
		offs = append(offs, len(s))
	}
	return b.String(), offs
}

// asciiSpace is unicode.IsSpace for bytes below utf8.RuneSelf.
func asciiSpace(c byte) bool {
	return c == ' ' || ('\t' <= c && c <= '\r')
}

// alreadyNormal returns normalizeSpace(s) without copying when that is s less its trailing
// spaces: ASCII without capitals, backquotes or whitespace other than single inner spaces.
func alreadyNormal(s string) (string, bool) {
	t := strings.TrimRight(s, " ")
	// Eight bytes at a time: the exact per-byte range masks below (bit 7 of each byte set
	// when the byte is in the range) find any byte that is not ASCII, a capital, a
	// backquote or whitespace other than a space, and spaces next to each other; prev
	// stands for the byte before the block, a space before the first so that a leading
	// space fails.
	i, prev := 0, uint64(1)
	for ; i+8 <= len(t); i += 8 {
		x := swar.Load64(t[i:])
		sp := swar.Between(x, ' '-1, ' '+1)
		if x&swar.MSBs|swar.Between(x, 'A'-1, 'Z'+1)|swar.Between(x, '`'-1, '`'+1)|
			swar.Between(x, '\t'-1, '\r'+1)|sp&(sp<<8)|sp&(prev<<7) != 0 {
			return "", false
		}
		prev = sp >> 63
	}
	for ; i < len(t); i++ {
		c := t[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || c == '`' || ('\t' <= c && c <= '\r') ||
			(c == ' ' && (i == 0 || t[i-1] == ' ')) {
			return "", false
		}
	}
	return t, true
}

// sentenceAround returns the sentence of s that contains byte offset i.
func sentenceAround(s string, i int) string {
	start := strings.LastIndexAny(s[:i], ".!?\n。！？") + 1
	end := len(s)
	if j := strings.IndexAny(s[i:], ".!?\n。！？"); j >= 0 {
		end = i + j + 1
		if end < len(s) && !utf8.RuneStart(s[end]) {
			_, size := utf8.DecodeRuneInString(s[i+j:])
			end = i + j + size
		}
	}
	return strings.TrimSpace(s[start:end])
}

var stopwords = toSet(strings.Fields(`
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further had hadn't has hasn't have haven't having he he'd he'll
he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
it it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought
our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's with won't would
wouldn't you you'd you'll you're you've your yours yourself yourselves
just really will may might must shall yes ok okay sure please thanks thank hi hello hey dear
get got give tell say said know want need like make made show explain describe help write find
use using used one two also well much many way thing things something anything lot now today
would could should able let us via etc e.g i.e
basic good best simple quick easy new old way ways kind type example question answer right
first last next every other another better great nice little big
el la los las un una unos unas de del al y o que en es por para con se su sus lo le les mi tu
le la les un une des du de et ou que qui dans est pour avec sur ce cette je tu il elle nous vous
der die das ein eine und oder ist sind zu mit auf für von den dem des ich du sie wir ihr es nicht
o a os as um uma de do da dos das e ou que em no na para com por é
il lo la gli le un una di da in con su per che e o è non
`))

func toSet(ws []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ws))
	for _, w := range ws {
		m[w] = struct{}{}
	}
	return m
}
