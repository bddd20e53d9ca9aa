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

// isCreativeRequest is creativeRequest.MatchString. The pattern is `(?i)\b(...)\b` over ASCII
// words, so on text without the two non-ASCII runes that fold to ASCII letters (K, the
// Kelvin sign, and ſ, the long s) a match is exactly a maximal run of ASCII word bytes
// (or two runs with the phrase's separator between them) that lower-cases to an entry.
// Text with those runes goes to the regexp.
func isCreativeRequest(s string) bool {
	if strings.Contains(s, "\u212a") || strings.Contains(s, "\u017f") {
		return creativeRequest.MatchString(s)
	}
	var cur, prev [maxCreativeWord]byte
	prevLen, prevEnd := -1, -1
	for i := 0; i < len(s); {
		if !isASCIIWordByte(s[i]) {
			i++
			continue
		}
		start := i
		n := 0
		for i < len(s) && isASCIIWordByte(s[i]) {
			if n < maxCreativeWord {
				c := s[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				cur[n] = c
			}
			n++
			i++
		}
		if n <= maxCreativeWord {
			w := cur[:n]
			if _, ok := creativeWords[string(w)]; ok {
				return true
			}
			if prevLen >= 0 {
				for _, p := range creativePhrases {
					if string(prev[:prevLen]) == p[0] && s[prevEnd:start] == p[1] && string(w) == p[2] {
						return true
					}
				}
			}
			prev, prevLen = cur, n
		} else {
			prevLen = -1
		}
		prevEnd = i
	}
	return false
}
