package errordetectprocessor

import (
	"strconv"
	"strings"

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
	ws := words(prose)
	if len(ws) > maxRepetitionWords {
		ws = ws[:maxRepetitionWords]
	}
	if ev, ok := wordLoop(ws, c.MinRepeats, c.MinLoopWords); ok {
		v.add(behavioral(c.CheckConfig, llmschema.FlagCodeRepetition, "the answer loops on the same words", ev))
		return
	}
	if c.MinUniqueTrigramRatio > 0 && len(ws) >= c.MinWords {
		ratio := uniqueTrigramRatio(ws)
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

// wordLoop finds a unit of 1..maxLoopPeriod words repeated at least minRepeats times back
// to back and covering at least minWords words.
func wordLoop(ws []string, minRepeats, minWords int) (string, bool) {
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

func uniqueTrigramRatio(ws []string) float64 {
	if len(ws) < 3 {
		return 1
	}
	seen := make(map[[3]string]struct{}, len(ws))
	for i := 0; i+2 < len(ws); i++ {
		seen[[3]string{ws[i], ws[i+1], ws[i+2]}] = struct{}{}
	}
	return float64(len(seen)) / float64(len(ws)-2)
}
