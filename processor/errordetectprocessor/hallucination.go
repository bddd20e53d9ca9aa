package errordetectprocessor

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/swar"
)

// grounding is everything a trace's answers may rest on: the inputs, retrieved documents
// and tool results of the same trace, lower-cased, with the numbers and URLs indexed. It is
// collected, and its pool and indexes are built, on first use: most answers state no
// number, URL or name to look up, and building them for a trace with multi-KB prompts
// costs more than all the checks together.
type grounding struct {
	group     *traceGroup
	collected bool
	// context is true when the trace retrieved documents or called tools; only then is
	// an unsupported fact a sign of hallucination rather than of the model's own knowledge.
	context bool
	texts   []string

	pooled  bool
	pool    string
	numbers map[string]struct{}
	times   map[string]struct{}
	words   map[string]struct{}
}

// hasContext reports whether the trace retrieved documents or called tools.
func (gr *grounding) hasContext() bool {
	gr.collect()
	return gr.context
}

func (gr *grounding) collect() {
	if gr.collected {
		return
	}
	gr.collected = true
	add := func(s string) {
		if s != "" {
			gr.texts = append(gr.texts, s)
		}
	}
	for _, v := range gr.group.spans {
		for _, doc := range v.documents() {
			gr.context = true
			add(doc.Content)
		}
		if r := v.toolResult(); r != "" {
			gr.context = true
			add(r)
		}
		add(str(v.attrs, llmschema.ToolCallArguments))
		add(str(v.attrs, llmschema.Input))
		add(v.system)
		for _, m := range v.in {
			for _, p := range m.Parts {
				switch p.Type {
				case llmschema.PartToolCallResponse:
					gr.context = true
					add(anyText(p.Response))
				case llmschema.PartToolCall:
					add(anyText(p.Arguments))
				default:
					if m.Role == llmschema.RoleTool {
						gr.context = true
					}
					add(anyText(p.Content))
				}
			}
		}
		// A tool call's own arguments in an output (e.g. a search query) are context for
		// later answers.
		for _, m := range v.out {
			for _, p := range m.Parts {
				if p.Type == llmschema.PartToolCall {
					add(anyText(p.Arguments))
				}
			}
		}
	}
	if !gr.context {
		gr.texts = nil
	}
}

// lowerPool is the grounding text, lower-cased: every text followed by a newline.
func (gr *grounding) lowerPool() string {
	gr.collect()
	if !gr.pooled {
		gr.pooled = true
		n := 0
		for _, t := range gr.texts {
			n += len(t) + 1
		}
		var b strings.Builder
		b.Grow(n)
		for _, t := range gr.texts {
			b.WriteString(t)
			b.WriteByte('\n')
		}
		gr.pool = strings.ToLower(b.String())
	}
	return gr.pool
}

func (gr *grounding) numberSet() map[string]struct{} {
	if gr.numbers == nil {
		gr.numbers = map[string]struct{}{}
		for _, n := range extractNumbers(gr.lowerPool(), false) {
			gr.numbers[n] = struct{}{}
		}
	}
	return gr.numbers
}

func (gr *grounding) timeSet() map[string]struct{} {
	if gr.times == nil {
		gr.times = toSet(extractTimes(gr.lowerPool()))
	}
	return gr.times
}

func (gr *grounding) wordSet() map[string]struct{} {
	if gr.words == nil {
		gr.words = toSet(words(gr.lowerPool()))
	}
	return gr.words
}

var (
	urlRE    = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}|\\^` + "`" + `]+`)
	entityRE = regexp.MustCompile(`\p{Lu}[\p{L}'’]+(?:[ -]\p{Lu}[\p{L}'’]+)*`)
)

// extractNumbers returns the normalized numbers of s ("1,200.50" → "1200.5"). With
// claimsOnly, numbers that rarely carry a checkable claim are left out: small integers,
// list markers and digits inside identifiers (gpt-4o, A320).
func extractNumbers(s string, claimsOnly bool) []string {
	if strings.Contains(s, "://") {
		s = urlRE.ReplaceAllString(s, " ")
	}
	var out []string
	for _, loc := range numberSpans(s) {
		raw := s[loc[0]:loc[1]]
		if claimsOnly {
			if loc[0] > 0 {
				r, _ := utf8.DecodeLastRuneInString(s[:loc[0]])
				if unicode.IsLetter(r) || r == '-' || r == '_' || r == '/' || r == '#' {
					continue
				}
			}
			if isListMarker(s, loc[0], loc[1]) {
				continue
			}
		}
		n := normalizeNumber(raw)
		if claimsOnly && !strings.Contains(n, ".") && len(n) <= 2 {
			if n == "" || (len(n) == 1) || n == "10" {
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

func isListMarker(s string, start, end int) bool {
	lineStart := strings.LastIndexByte(s[:start], '\n') + 1
	if strings.TrimSpace(s[lineStart:start]) != "" {
		return false
	}
	return end < len(s) && (s[end] == '.' || s[end] == ')') && (end+1 == len(s) || s[end+1] == ' ')
}

func normalizeNumber(raw string) string {
	n := strings.ReplaceAll(raw, ",", "")
	if strings.Contains(n, ".") {
		n = strings.TrimRight(n, "0")
		n = strings.TrimSuffix(n, ".")
	}
	n = strings.TrimLeft(n, "0")
	if n == "" || strings.HasPrefix(n, ".") {
		n = "0" + n
	}
	return n
}

var commonCapitalized = toSet(strings.Fields(`
i i'm i've i'll i'd ok okay yes no hi hello hey dear thanks thank please note sure great
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december today tomorrow yesterday step steps option options
however also additionally finally first second third next then unfortunately good best regards
`))

// unsupportedEntities returns the capitalized names of text that appear nowhere in the
// grounding. Sentence-initial words are skipped: their capital says nothing.
func unsupportedEntities(text string, gr *grounding) []string {
	if !mayHaveUpper(text) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, loc := range entityRE.FindAllStringIndex(text, -1) {
		ent := text[loc[0]:loc[1]]
		if sentenceInitial(text, loc[0]) {
			// Drop the first word; the rest of a multi-word name still counts.
			if i := strings.IndexAny(ent, " -"); i > 0 {
				ent = ent[i+1:]
			} else {
				continue
			}
		}
		if isAllCaps(ent) {
			continue
		}
		low := strings.ToLower(ent)
		if seen[low] {
			continue
		}
		seen[low] = true
		if _, common := commonCapitalized[low]; common {
			continue
		}
		if strings.Contains(gr.lowerPool(), low) {
			continue
		}
		supported := true
		for _, w := range words(low) {
			if _, ok := gr.wordSet()[w]; !ok {
				supported = false
				break
			}
		}
		if !supported {
			out = append(out, ent)
		}
	}
	return out
}

// mayHaveUpper is false when s has no ASCII capital and no non-ASCII byte, so no \p{Lu}.
func mayHaveUpper(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if x := swar.Load64(s[i:]); x&swar.MSBs|swar.Between(x, 'A'-1, 'Z'+1) != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func isAllCaps(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// sentenceInitial reports whether the word at i starts a sentence, a line or a list item.
func sentenceInitial(s string, i int) bool {
	j := i
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		switch {
		case r == '\n':
			return true
		case unicode.IsSpace(r) || r == '*' || r == '#' || r == '"' || r == '“' || r == '(' || r == '_' || r == '>' || r == '-' || r == '•':
			j -= size
			continue
		case r == '.' || r == '!' || r == '?' || r == ':' || r == ';' || r == '…':
			return true
		case unicode.IsDigit(r) && j-size >= 0:
			j -= size
			continue
		default:
			return false
		}
	}
	return true
}

// digits is countDigits(text): without digits there is no number or clock time to check.
func (d *detector) detectHallucination(v *spanView, text string, gr *grounding, digits int) {
	c := d.cfg.Hallucination
	// An answer without a URL (every urlRE match has "://"), a digit or a capital states
	// nothing to look up, and both thresholds are at least one: the grounding is not needed.
	if !(c.Numbers && digits > 0) && !(c.URLs && strings.Contains(text, "://")) && !(c.Entities && mayHaveUpper(text)) {
		return
	}
	if !gr.hasContext() {
		return
	}
	var facts, ents []string
	if c.URLs && strings.Contains(text, "://") {
		for _, u := range urlRE.FindAllString(text, -1) {
			u = strings.TrimRight(u, ".,;:!?")
			if !strings.Contains(gr.lowerPool(), strings.TrimSuffix(strings.ToLower(u), "/")) {
				facts = append(facts, u)
			}
		}
	}
	if c.Numbers && digits > 0 {
		for _, tm := range extractTimes(text) {
			if _, ok := gr.timeSet()[tm]; !ok {
				facts = append(facts, tm)
			}
		}
		seen := map[string]bool{}
		for _, n := range extractNumbers(gr.joinGroupedNumbers(text, digits), true) {
			if seen[n] {
				continue
			}
			seen[n] = true
			if !gr.hasNumber(n) {
				facts = append(facts, n)
			}
		}
	}
	if c.Entities {
		ents = unsupportedEntities(text, gr)
	}
	if len(facts) < c.MinUnsupportedFacts && len(ents) < c.MinUnsupportedEntities {
		return
	}
	ev := append(facts, ents...)
	v.add(behavioral(c.CheckConfig, llmschema.FlagCodeHallucination,
		"the answer states facts found in none of the trace's inputs, documents or tool results",
		"unsupported: "+strings.Join(ev, ", ")))
}

// hasNumber reports whether n, or n as a percentage of a fraction (80 ↔ 0.8), is among the
// grounding's numbers.
func (gr *grounding) hasNumber(n string) bool {
	numbers := gr.numberSet()
	if _, ok := numbers[n]; ok {
		return true
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return false
	}
	for _, scaled := range []float64{f / 100, f * 100} {
		if _, ok := numbers[normalizeNumber(strconv.FormatFloat(scaled, 'f', -1, 64))]; ok {
			return true
		}
	}
	return false
}

var digitGroupsRE = regexp.MustCompile(`\b\d{2,6}(?:[ \-]\d{2,6}){2,}\b`)

// joinGroupedNumbers removes digit groups ("4539 5787 6362 1486", "978-0-7352-1129-2") whose
// digits appear together in the grounding, so that a formatted copy of a grounded number
// does not count as several unsupported ones.
//
// digits is countDigits(text); a match has at least six.
func (gr *grounding) joinGroupedNumbers(text string, digits int) string {
	if digits < 6 {
		return text
	}
	return digitGroupsRE.ReplaceAllStringFunc(text, func(m string) string {
		if _, ok := gr.numberSet()[normalizeNumber(digitsOnly(m))]; ok {
			return " "
		}
		return m
	})
}

// extractTimes returns clock times ("9:00", "21h30") as H:MM, so that a wrong hour is a
// claim even though its numbers are small.
func extractTimes(s string) []string {
	return clockTimes(s)
}
