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
		// Words of one, eight and more bytes; the last two share their first and last
		// eight bytes and their length, so wordHash gives them the same hash.
		alphabet := []string{"a", "abcdefgh", "abcdefghijklmnopq", "abcdefghXjklmnopq"}
		ws := make([]string, len(b))
		for i, c := range b {
			ws[i] = alphabet[c%4]
		}
		checkWordLoop(t, ws, int(minRepeats%8)+1, int(minWords%64))
	})
}

func checkWordLoop(t *testing.T, ws []string, minRepeats, minWords int) {
	t.Helper()
	sc := new(repetitionScratch)
	want := uniqueTrigramRatioReference(ws)
	for _, min := range []float64{0.1, 0.4, 0.5, 2.0 / 3, 0.9, 1} {
		got, low := sc.trigramRatioBelow(ws, min)
		if low != (want < min) || (low && got != want) {
			t.Fatalf("trigramRatioBelow(%q, %v) = %v %v, want %v", ws, min, got, low, want)
		}
	}
	got, gotOK := wordLoop(ws, minRepeats, minWords)
	wantLoop, wantOK := wordLoopReference(ws, minRepeats, minWords)
	if got != wantLoop || gotOK != wantOK {
		t.Fatalf("wordLoop(%q, %d, %d) = %q %v, want %q %v", ws, minRepeats, minWords, got, gotOK, wantLoop, wantOK)
	}
}
