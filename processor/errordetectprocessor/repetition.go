package errordetectprocessor

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tracehound/tracehound/internal/llmschema"
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
		ratio := sc.uniqueTrigramRatio(ws)
		if ratio < c.MinUniqueTrigramRatio {
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
	counts := map[string]int{}
	prev, run := "", 0
	for _, line := range strings.Split(s, "\n") {
		l := normalizeSpace(strings.TrimSpace(line))
		if l == "" {
			continue
		}
		if len([]rune(l)) < minRepeatedLineRunes {
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
	ids   []uint32
	tri   []uint64
	index map[string]uint32
}

var repetitionScratchPool = sync.Pool{New: func() any { return &repetitionScratch{index: map[string]uint32{}} }}

// release drops the references to the answer's words and returns the buffers to the pool.
func (sc *repetitionScratch) release() {
	clear(sc.words)
	clear(sc.index)
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

// uniqueTrigramRatio is the share of distinct trigrams among the trigrams of ws. Words are
// numbered in order of appearance; there are at most maxRepetitionWords distinct ones, so a
// trigram of numbers packs into 64 bits.
func (sc *repetitionScratch) uniqueTrigramRatio(ws []string) float64 {
	if len(ws) < 3 {
		return 1
	}
	sc.ids = sc.ids[:0]
	for _, w := range ws {
		id, ok := sc.index[w]
		if !ok {
			id = uint32(len(sc.index))
			sc.index[w] = id
		}
		sc.ids = append(sc.ids, id)
	}
	ids := sc.ids
	sc.tri = sc.tri[:0]
	for i := 0; i+2 < len(ids); i++ {
		sc.tri = append(sc.tri, uint64(ids[i])<<42|uint64(ids[i+1])<<21|uint64(ids[i+2]))
	}
	tri := sc.tri
	slices.Sort(tri)
	distinct := 1
	for i := 1; i < len(tri); i++ {
		if tri[i] != tri[i-1] {
			distinct++
		}
	}
	return float64(distinct) / float64(len(tri))
}
