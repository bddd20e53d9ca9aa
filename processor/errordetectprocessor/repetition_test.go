package errordetectprocessor

import (
	"strconv"
	"strings"
	"testing"
)

// wordLoopReference is the straightforward scan wordLoop must agree with: every period,
// every position.
func wordLoopReference(ws []string, minRepeats, minWords int) (string, bool) {
	n := len(ws)
	for p := 1; p <= maxLoopPeriod && p*minRepeats <= n; p++ {
		run := 0
		for i := 0; i+p < n; i++ {
			if ws[i] == ws[i+p] {
				run++
				// run equal positions mean the unit has repeated run/p more times.
				if span := run + p; span >= p*minRepeats && span >= minWords {
					start := i + p + 1 - span
					return strings.Join(ws[start:start+p], " ") + " (×" + strconv.Itoa(span/p) + ")", true
				}
			} else {
				run = 0
			}
		}
	}
	return "", false
}

// uniqueTrigramRatioReference counts distinct trigrams with a map of word triples.
func uniqueTrigramRatioReference(ws []string) float64 {
	if len(ws) < 3 {
		return 1
	}
	seen := make(map[[3]string]struct{}, len(ws))
	for i := 0; i+2 < len(ws); i++ {
		seen[[3]string{ws[i], ws[i+1], ws[i+2]}] = struct{}{}
	}
	return float64(len(seen)) / float64(len(ws)-2)
}

func TestWordLoop_AgreesWithReference(t *testing.T) {
	for _, s := range []string{"", "a", "a a a a a a a a a a a a a a a a a a a a a a", "a b a b a b a b a b a b a b a b a b a b a b a b",
		"x y z a b c a b c a b c a b c a b c a b c a b c a b c q", "the cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat"} {
		checkWordLoop(t, strings.Fields(s), 4, 20)
		checkWordLoop(t, strings.Fields(s), 2, 3)
	}
}

// FuzzWordLoop (which also checks the trigram ratio) reads the input as words over a small alphabet (one per byte), so that loops
// are frequent, and tries several thresholds.
func FuzzWordLoop(f *testing.F) {
	f.Add([]byte("abababababababababababababab"), uint8(4), uint8(20))
	f.Add([]byte("xyzabcabcabcabcabcabcabcq"), uint8(3), uint8(5))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, minRepeats, minWords uint8) {
		ws := make([]string, len(b))
		for i, c := range b {
			ws[i] = strconv.Itoa(int(c % 4))
		}
		checkWordLoop(t, ws, int(minRepeats%8)+1, int(minWords%64))
	})
}

func checkWordLoop(t *testing.T, ws []string, minRepeats, minWords int) {
	t.Helper()
	sc := new(repetitionScratch)
	if got, want := sc.uniqueTrigramRatio(ws), uniqueTrigramRatioReference(ws); got != want {
		t.Fatalf("uniqueTrigramRatio(%q) = %v, want %v", ws, got, want)
	}
	got, gotOK := wordLoop(ws, minRepeats, minWords)
	want, wantOK := wordLoopReference(ws, minRepeats, minWords)
	if got != want || gotOK != wantOK {
		t.Fatalf("wordLoop(%q, %d, %d) = %q %v, want %q %v", ws, minRepeats, minWords, got, gotOK, want, wantOK)
	}
}
