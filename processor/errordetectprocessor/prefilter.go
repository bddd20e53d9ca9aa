package errordetectprocessor

import "strings"

// Hand-written stand-ins for regular expressions that ran over whole prompts and answers
// (several KB each) and dominated the CPU profile on agent traces. Each answers exactly
// what its regexp (kept in prefilter_test.go, where a differential fuzz test holds them
// equal) would answer.

// hasSecretHint is secretHint.MatchString: every secret pattern contains one of its
// literals. They are found from their rarest byte (a capital, '-', '_'), which the
// vectorized byte search skips to, rather than with one substring search each.
func hasSecretHint(s string) bool {
	return strings.Contains(s, "PRIVATE KEY") ||
		eachByte(s, '_', func(i int) bool {
			// gh[pousr]_, sk_live, rk_live, pk_live
			return (i >= 3 && s[i-3] == 'g' && s[i-2] == 'h' && strings.IndexByte("pousr", s[i-1]) >= 0) ||
				(i >= 2 && (s[i-2] == 's' || s[i-2] == 'r' || s[i-2] == 'p') && s[i-1] == 'k' && strings.HasPrefix(s[i+1:], "live"))
		}) ||
		eachByte(s, '-', func(i int) bool {
			// sk-, xox[abposr]-
			return (i >= 2 && s[i-2] == 's' && s[i-1] == 'k') ||
				(i >= 4 && s[i-4] == 'x' && s[i-3] == 'o' && s[i-2] == 'x' && strings.IndexByte("abposr", s[i-1]) >= 0)
		}) ||
		eachByte(s, 'A', func(i int) bool {
			t := s[i:]
			return strings.HasPrefix(t, "AKIA") || strings.HasPrefix(t, "ASIA") || strings.HasPrefix(t, "AIza")
		}) ||
		eachByte(s, 'J', func(i int) bool { return i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' })
}

// eachByte reports whether match holds at some index of c in s.
func eachByte(s string, c byte, match func(i int) bool) bool {
	for off := 0; ; {
		j := strings.IndexByte(s[off:], c)
		if j < 0 {
			return false
		}
		if match(off + j) {
			return true
		}
		off += j + 1
	}
}

// askLiterals: every alternative of askRE contains one of these, so a sentence without
// them cannot match.
var askLiterals = []string{"?", " you", "please ", "may i ", "what", "need ", "let me know ", "send "}

// injectionHints: every one of injectionPhrases contains one of these.
var injectionHints = []string{"instructions", "you are now dan", "developer mode enabled", "jailbreak mode", "i have been pwned", "system override"}

var (
	askSet       = newAnchoredSet(askLiterals)
	slotSet      = newAnchoredSet(slotKeywords)
	injectionSet = newAnchoredSet(injectionHints)
)

// confirmationLiterals: confirmation needs one of these words.
var confirmationLiterals = []string{"confirm", "verify", "double-check", "correct", "spell"}

// creativeWords are the single words of creativeRequest; creativePhrases its alternatives of
// two words with the exact separator between them.
var (
	creativeWords = toSet(strings.Fields(`poem poetry haiku limerick joke story song lyrics rap name names
slogan slogans tagline brainstorm idea ideas riddle pun fiction translate translation rewrite paraphrase
rephrase summarize summarise tldr continue random`))
	creativePhrases = [][3]string{{"tl", ";", "dr"}, {"surprise", " ", "me"}, {"fun", " ", "fact"}}
)

// maxCreativeWord is the longest entry of creativeWords and creativePhrases, in bytes.
const maxCreativeWord = 11

// creativeShapes is a bitmap of the shapes (see creativeShape) of the entries of
// creativeWords and of the last words of creativePhrases. Most words of a prompt have a
// shape no entry has and are never copied or looked up.
var creativeShapes = func() (t [1 << 10 / 64]uint64) {
	mark := func(w string) {
		k := creativeShape(w[0], w[len(w)-1], len(w))
		t[k>>6] |= 1 << (k & 63)
	}
	for w := range creativeWords {
		mark(w)
	}
	for _, p := range creativePhrases {
		mark(p[2])
	}
	return t
}()

// creativeShape hashes an ASCII word by its first and last bytes, case folded, and its
// length into ten bits.
func creativeShape(first, last byte, n int) uint {
	return (uint(first|0x20)*31 + uint(last|0x20)*7 + uint(n)) & (1<<10 - 1)
}

func hasCreativeShape(first, last byte, n int) bool {
	k := creativeShape(first, last, n)
	return creativeShapes[k>>6]&(1<<(k&63)) != 0
}

// isCreativeRequest is creativeRequest.MatchString. The pattern is `(?i)\b(...)\b` over ASCII
// words, so on text without the two non-ASCII runes that fold to ASCII letters (K, the
// Kelvin sign, and ſ, the long s) a match is exactly a maximal run of ASCII word bytes
// (or two runs with the phrase's separator between them) that lower-cases to an entry.
// Text with those runes goes to the regexp.
func isCreativeRequest(s string) bool {
	if strings.Contains(s, "\u212a") || strings.Contains(s, "\u017f") {
		return creativeRequest.MatchString(s)
	}
	prevStart, prevEnd := -1, -1
	for i := 0; i < len(s); {
		if !isASCIIWordByte(s[i]) {
			i++
			continue
		}
		start := i
		for i < len(s) && isASCIIWordByte(s[i]) {
			i++
		}
		if n := i - start; n <= maxCreativeWord && hasCreativeShape(s[start], s[i-1], n) &&
			isCreativeWord(s, prevStart, prevEnd, start, i) {
			return true
		}
		prevStart, prevEnd = start, i
	}
	return false
}

// isCreativeWord reports whether the ASCII word s[start:end] lower-cases to an entry of
// creativeWords, or ends an entry of creativePhrases after the word s[prevStart:prevEnd]
// (prevStart < 0 when there is none).
func isCreativeWord(s string, prevStart, prevEnd, start, end int) bool {
	var buf [maxCreativeWord]byte
	w := buf[:end-start]
	for k := range w {
		c := s[start+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		w[k] = c
	}
	if _, ok := creativeWords[string(w)]; ok {
		return true
	}
	if prevStart < 0 {
		return false
	}
	for _, p := range creativePhrases {
		if string(w) == p[2] && s[prevEnd:start] == p[1] && strings.EqualFold(s[prevStart:prevEnd], p[0]) {
			return true
		}
	}
	return false
}

// anchoredSet answers containsAny for a fixed list of non-empty literals in one pass over
// the text. Each literal of two or more bytes is anchored on a pair of adjacent bytes of it
// (the rarest, by pairRarity); the pass tests every pair of the text in a bitmap of the
// anchor pairs and compares literals only where one occurs. Single bytes are not selective
// enough on prose (the literals share common letters and spaces, and the rarest byte of
// each still occurs every few words), while an anchor pair rarely does; the test per byte
// is a table lookup without a branch that depends on the text.
type anchoredSet struct {
	// pairs has bit c0 | c1<<8 set for the anchor pair (c0, c1), and for (c, any byte)
	// when c is a one-byte literal.
	pairs [1 << 16 / 64]uint64
	// single marks the one-byte literals.
	single [256]bool
	// lits are the literals of two or more bytes. A hit compares them all: a set holds a few
	// dozen at most, and a search for its pair's entries cost more.
	lits []anchoredLiteral

	// When every literal is at least minSkipLen bytes long, in skips through the text
	// instead (Wu–Manber): it looks at the last two bytes of a window as long as the
	// shortest literal, and shift, indexed by their blockHash, says how far the window can
	// move without passing an occurrence: the least m-1-q over the pairs l[q-1], l[q]
	// (0 < q < m) of the literals' first m bytes that hash alike, m-1 when none does.
	// Injection phrases are long; the window moves several bytes at a time.
	minLen int
	shift  *[1 << 12]uint8
}

// minSkipLen is the shortest literal length from which skipping beats reading every pair.
const minSkipLen = 8

func blockHash(c0, c1 byte) uint { return (uint(c0)<<4 ^ uint(c1)) & (1<<12 - 1) }

type anchoredLiteral struct {
	s    string
	at   int    // index in s of the anchor pair
	pair uint16 // pairKey of the anchor pair
}

// commonBigrams are the most frequent pairs of letters in English, most frequent first
// (Norvig, "English Letter Frequency Counts: Mayzner Revisited").
const commonBigrams = "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io " +
	"le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo ho pe ec pr no ct " +
	"us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po we na ul ni ts mo ow pa im " +
	"mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av " +
	"ag if ap gr od bo sp rd do uc bu ei ov by rm ep tt oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba " +
	"ey ls va um pp ua up lu go ht ru ug ds lt pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk"

// pairRarity ranks a pair of bytes by how rarely it occurs in (mostly English, lower-case)
// text: a pair with a space first, then the common pairs of letters, most frequent first,
// then other pairs of letters, then pairs with any other byte (digits, punctuation, UTF-8).
func pairRarity(c0, c1 byte) int {
	isLetter := func(c byte) bool { return 'a' <= c && c <= 'z' }
	switch {
	case c0 == ' ' || c1 == ' ':
		return 0
	case !isLetter(c0) || !isLetter(c1):
		return len(commonBigrams) + 2
	}
	for i := 0; i+1 < len(commonBigrams); i += 3 {
		if commonBigrams[i] == c0 && commonBigrams[i+1] == c1 {
			return 1 + i/3
		}
	}
	return len(commonBigrams) + 1
}

func pairKey(c0, c1 byte) uint16 { return uint16(c0) | uint16(c1)<<8 }

func newAnchoredSet(lits []string) *anchoredSet {
	a := &anchoredSet{}
	for _, l := range lits {
		if len(l) == 1 {
			a.single[l[0]] = true
			for c1 := 0; c1 < 256; c1++ {
				a.setPair(pairKey(l[0], byte(c1)))
			}
			continue
		}
		at := 0
		for i := 1; i+1 < len(l); i++ {
			if pairRarity(l[i], l[i+1]) > pairRarity(l[at], l[at+1]) {
				at = i
			}
		}
		k := pairKey(l[at], l[at+1])
		a.setPair(k)
		a.lits = append(a.lits, anchoredLiteral{s: l, at: at, pair: k})
	}
	a.minLen = len(lits[0])
	for _, l := range lits {
		a.minLen = min(a.minLen, len(l))
	}
	if a.minLen >= minSkipLen {
		m := min(a.minLen, 256)
		a.shift = new([1 << 12]uint8)
		for i := range a.shift {
			a.shift[i] = uint8(m - 1)
		}
		for _, l := range a.lits {
			for q := 1; q < m; q++ {
				h := blockHash(l.s[q-1], l.s[q])
				a.shift[h] = min(a.shift[h], uint8(m-1-q))
			}
		}
	}
	return a
}

func (a *anchoredSet) setPair(k uint16) { a.pairs[k>>6] |= 1 << (k & 63) }

func (a *anchoredSet) hasPair(k uint16) bool { return a.pairs[k>>6]&(1<<(k&63)) != 0 }

// in reports whether s contains one of the literals.
func (a *anchoredSet) in(s string) bool {
	if a.shift != nil {
		return a.skipIn(s)
	}
	if len(s) == 0 {
		return false
	}
	c0 := s[0]
	for i := 1; i < len(s); i++ {
		c1 := s[i]
		if k := pairKey(c0, c1); a.hasPair(k) && a.at(s, i-1, k) {
			return true
		}
		c0 = c1
	}
	// The last byte starts no pair; only a one-byte literal can be there.
	return a.single[c0]
}

// at reports whether one of the literals occurs in s with its anchor pair k at byte i.
func (a *anchoredSet) at(s string, i int, k uint16) bool {
	if a.single[s[i]] {
		return true
	}
	for _, l := range a.lits {
		if start := i - l.at; l.pair == k && start >= 0 && strings.HasPrefix(s[start:], l.s) {
			return true
		}
	}
	return false
}

// skipIn is in for a set with a shift table: every occurrence of a literal starts a window
// that the scan stops at, and there every literal is compared.
func (a *anchoredSet) skipIn(s string) bool {
	m := min(a.minLen, 256)
	for j := m - 1; j < len(s); {
		if sh := a.shift[blockHash(s[j-1], s[j])]; sh > 0 {
			j += int(sh)
			continue
		}
		start := j + 1 - m
		for _, l := range a.lits {
			if strings.HasPrefix(s[start:], l.s) {
				return true
			}
		}
		j++
	}
	return false
}
