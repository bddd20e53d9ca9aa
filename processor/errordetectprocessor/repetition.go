package errordetectprocessor

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/swar"
)

const (
	// maxRepetitionWords bounds the work per answer; loops show within the first few
	// thousand words.
	maxRepetitionWords = 4000
	// maxLoopPeriod is the longest repeated unit, in words, that the loop search tries.
	maxLoopPeriod = 60
	// minRepeatedLineRunes ignores short lines ("}", "---", "Yes") that repeat legitimately.
	minRepeatedLineRunes = 12
)

// detectRepetition flags degenerate loops: a run of words or a line repeated back to back,
// or a long answer made of few distinct trigrams. Code blocks are skipped: repeated lines
// are normal in code.
func (d *detector) detectRepetition(v *spanView, text string) {
	c := d.cfg.Repetition
	prose := stripCodeBlocks(text)
	if ev, ok := repeatedLines(prose, c.MinRepeats); ok {
		v.add(behavioral(c.CheckConfig, llmschema.FlagCodeRepetition, "the answer repeats the same line", ev))
		return
	}
	sc := repetitionScratchPool.Get().(*repetitionScratch)
	defer sc.release()
	sc.words = appendWords(sc.words[:0], prose)
	ws := sc.words
	if len(ws) > maxRepetitionWords {
		ws = ws[:maxRepetitionWords]
	}
	if ev, ok := wordLoop(ws, c.MinRepeats, c.MinLoopWords); ok {
		v.add(behavioral(c.CheckConfig, llmschema.FlagCodeRepetition, "the answer loops on the same words", ev))
		return
	}
	if c.MinUniqueTrigramRatio > 0 && len(ws) >= c.MinWords {
		if ratio, low := sc.trigramRatioBelow(ws, c.MinUniqueTrigramRatio); low {
			v.add(behavioral(c.CheckConfig, llmschema.FlagCodeRepetition, "the answer is highly repetitive",
				"distinct trigram ratio "+strconv.FormatFloat(ratio, 'f', 2, 64)+" over "+strconv.Itoa(len(ws))+" words"))
		}
	}
}

func stripCodeBlocks(s string) string {
	if !strings.Contains(s, "```") {
		return s
	}
	var b strings.Builder
	parts := strings.Split(s, "```")
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// repeatedLines finds a non-trivial line that appears min times in a row (ignoring blank
// lines between), or min+2 times anywhere.
func repeatedLines(s string, min int) (string, bool) {
	// Both counts are at most the number of lines: most answers are a paragraph or a few,
	// and need no line normalized or counted.
	if strings.Count(s, "\n")+1 < min {
		return "", false
	}
	counts := map[string]int{}
	prev, run := "", 0
	for _, line := range strings.Split(s, "\n") {
		l := normalizeSpace(strings.TrimSpace(line))
		if l == "" {
			continue
		}
		if utf8.RuneCountInString(l) < minRepeatedLineRunes {
			prev, run = "", 0
			continue
		}
		if l == prev {
			run++
		} else {
			prev, run = l, 1
		}
		counts[l]++
		if run >= min || counts[l] >= min+2 {
			return l, true
		}
	}
	return "", false
}

// repetitionScratch holds the buffers of one repetition check, reused across answers: the
// check runs on every answer and would otherwise allocate them each time.
type repetitionScratch struct {
	words []string
	table []int32
}

var repetitionScratchPool = sync.Pool{New: func() any { return new(repetitionScratch) }}

// release drops the references to the answer's words and returns the buffers to the pool.
func (sc *repetitionScratch) release() {
	clear(sc.words)
	repetitionScratchPool.Put(sc)
}

// wordLoop finds a unit of 1..maxLoopPeriod words repeated at least minRepeats times back
// to back and covering at least minWords words: for some period p, a run of need positions
// i with ws[i] == ws[i+p]. It reports the first such run of the smallest period. A run of
// need positions contains a multiple of need minus one, so only those are probed, and the
// run around a match is measured from there.
func wordLoop(ws []string, minRepeats, minWords int) (string, bool) {
	n := len(ws)
	for p := 1; p <= maxLoopPeriod && p*minRepeats <= n; p++ {
		need := max(1, p*(minRepeats-1), minWords-p)
		for k := need - 1; k+p < n; k += need {
			if ws[k] != ws[k+p] {
				continue
			}
			start := k
			for start > 0 && ws[start-1] == ws[start-1+p] {
				start--
			}
			end := k + 1
			for end-start < need && end+p < n && ws[end] == ws[end+p] {
				end++
			}
			if end-start >= need {
				return strings.Join(ws[start:start+p], " ") + " (×" + strconv.Itoa((need+p)/p) + ")", true
			}
		}
	}
	return "", false
}

// trigramRatioBelow returns the share of distinct trigrams among the trigrams of ws, and
// whether it is below min. The count stops as soon as it is high enough for the share to
// reach min: an answer that is not repetitive gets there within the first half of its words.
func (sc *repetitionScratch) trigramRatioBelow(ws []string, min float64) (float64, bool) {
	if len(ws) < 3 {
		return 1, 1 < min
	}
	n := len(ws) - 2
	share := func(k int) float64 { return float64(k) / float64(n) }
	// enough is the least count whose share reaches min (more than n when none does).
	enough := int(min * float64(n))
	for enough > 0 && share(enough-1) >= min {
		enough--
	}
	for enough <= n && share(enough) < min {
		enough++
	}
	if d := sc.distinctTrigrams(ws, enough); d < enough {
		return share(d), true
	}
	return 0, false
}

// distinctTrigrams counts the distinct trigrams of ws (at least three words), stopping at
// limit. It counts them in an open-addressing table of trigram start positions, comparing
// the words themselves, so a hash collision costs a probe but never changes the count.
func (sc *repetitionScratch) distinctTrigrams(ws []string, limit int) int {
	n := len(ws) - 2
	size := 8
	for size < 2*n {
		size <<= 1
	}
	if cap(sc.table) < size {
		sc.table = make([]int32, size)
	}
	table := sc.table[:size]
	for i := range table {
		table[i] = -1
	}
	mask := uint64(size - 1)
	h0, h1 := wordHash(ws[0]), wordHash(ws[1])
	distinct := 0
	for i := 0; i < n && distinct < limit; i++ {
		h2 := wordHash(ws[i+2])
		k := ((h0*0x9e3779b97f4a7c15+h1)*0x9e3779b97f4a7c15 + h2) * 0x9e3779b97f4a7c15
		h0, h1 = h1, h2
		for slot := k >> 32 & mask; ; slot = (slot + 1) & mask {
			j := table[slot]
			if j < 0 {
				table[slot] = int32(i)
				distinct++
				break
			}
			if ws[j] == ws[i] && ws[j+1] == ws[i+1] && ws[j+2] == ws[i+2] {
				break
			}
		}
	}
	return distinct
}

// wordHash spreads words over the trigram table: words under eight bytes are kept whole,
// longer ones by their first and last eight bytes and their length.
func wordHash(w string) uint64 {
	if len(w) >= 8 {
		return (swar.Load64(w)*0xff51afd7ed558ccd ^ swar.Load64(w[len(w)-8:]) ^ uint64(len(w))) * 0xc4ceb9fe1a85ec53
	}
	x := uint64(len(w))
	for i := 0; i < len(w); i++ {
		x = x<<8 | uint64(w[i])
	}
	return x * 0xc4ceb9fe1a85ec53
}
