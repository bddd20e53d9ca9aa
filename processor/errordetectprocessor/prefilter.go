package errordetectprocessor

import "strings"

// Hand-written stand-ins for regular expressions that ran over whole prompts and answers
// (several KB each) and dominated the CPU profile on agent traces. Each answers exactly
// what its regexp (kept in prefilter_test.go, where a differential fuzz test holds them
// equal) would answer.

// hasSecretHint is secretHint.MatchString: every secret pattern contains one of these.
func hasSecretHint(s string) bool {
	for _, lit := range []string{"sk-", "sk_live", "rk_live", "pk_live", "AKIA", "ASIA", "AIza", "PRIVATE KEY", "eyJ"} {
		if strings.Contains(s, lit) {
			return true
		}
	}
	return hasPrefixThen(s, "gh", "pousr", '_') || hasPrefixThen(s, "xox", "abposr", '-')
}

// hasPrefixThen reports whether s contains prefix, one byte of set, then last.
func hasPrefixThen(s, prefix, set string, last byte) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], prefix)
		if i < 0 {
			return false
		}
		j := off + i + len(prefix)
		if j+1 < len(s) && strings.IndexByte(set, s[j]) >= 0 && s[j+1] == last {
			return true
		}
		off = off + i + 1
	}
}

// askLiterals: every alternative of askRE contains one of these, so a sentence without
// them cannot match.
var askLiterals = []string{"?", " you", "please ", "may i ", "what", "need ", "let me know ", "send "}

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
