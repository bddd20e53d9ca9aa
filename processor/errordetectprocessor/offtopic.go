package errordetectprocessor

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// creativeRequest matches questions whose good answers need not share words with them
// (poems, jokes, names, slogans, brainstorming): lexical overlap says nothing there.
var creativeRequest = regexp.MustCompile(`(?i)\b(poem|poetry|haiku|limerick|joke|story|song|lyrics|rap|names?|slogans?|tagline|brainstorm|ideas?|riddle|pun|fiction|translate|translation|rewrite|paraphrase|rephrase|summari[sz]e|tl;?dr|continue|surprise me|random|fun fact)\b`)

// detectOffTopic flags an answer that shares too little meaning with the question: under
// MinOverlap of the question's key terms appear in the answer, the answer is long enough to
// have said something, and it is not about the task of the system instructions either.
func (d *detector) detectOffTopic(v *spanView, text string) {
	c := d.cfg.OffTopic
	if hasToolCall(v.out) {
		return
	}
	question := v.lastUserText()
	if question == "" || isCreativeRequest(question) || mostlyCJK(question) {
		return
	}
	q := keyTerms(question)
	if len(q) < c.MinQuestionTerms {
		return
	}
	a := keyTerms(text)
	if len(a) < c.MinAnswerTerms {
		return
	}
	ov := overlap(q, a)
	if ov >= c.MinOverlap {
		return
	}
	// The answer may follow tool results or earlier turns rather than the literal words
	// of the last question (e.g. "and the other one?"): those count as context too.
	ctxTerms := keyTerms(capText(d.contextText(v), maxContextBytes))
	if overlap(a, ctxTerms) >= c.MaxTaskOverlap {
		return
	}
	if v.system != "" && overlap(a, keyTerms(capText(v.system, maxContextBytes))) >= c.MaxTaskOverlap {
		return
	}
	v.add(behavioral(c.CheckConfig, llmschema.FlagCodeOffTopic, "the answer shares little with the question",
		"question terms ["+strings.Join(sortedTerms(q, 8), " ")+"], answer overlap "+strconv.FormatFloat(ov, 'f', 2, 64)))
}

// contextText is what the answer may legitimately build on besides the question: tool
// results and retrieved documents. Earlier turns are left out on purpose, so that an
// answer to a previous question instead of the current one is still caught.
func (d *detector) contextText(v *spanView) string {
	var b strings.Builder
	for _, m := range v.in {
		for _, p := range m.Parts {
			if p.Type == llmschema.PartToolCallResponse {
				b.WriteString(anyText(p.Response))
				b.WriteByte('\n')
			} else if m.Role == llmschema.RoleTool {
				b.WriteString(anyText(p.Content))
				b.WriteByte('\n')
			}
		}
	}
	for _, doc := range v.documents() {
		b.WriteString(doc.Content)
		b.WriteByte('\n')
	}
	return b.String()
}

func sortedTerms(m map[string]struct{}, n int) []string {
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// mostlyCJK reports whether most letters of s are Chinese, Japanese or Korean: character
// bigrams are too coarse a stand-in for words to judge topic overlap there.
func mostlyCJK(s string) bool {
	cjk, letters := 0, 0
	for _, r := range s {
		if isCJK(r) {
			cjk++
			letters++
		} else if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters > 0 && cjk*2 > letters
}
