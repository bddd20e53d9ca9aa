package errordetectprocessor

import (
	"strings"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// refusalWindow is how far into the answer (in runes) a refusal must start: models put
// the refusal first, while the same words later in a long answer are usually a caveat.
const refusalWindow = 400

// refusalSources match declines in the normalized (lower-case, straight apostrophes,
// single spaces) start of an answer. Each needs a first-person subject or a decline verb
// together with an act of helping, so that "we can't ship to PO boxes" or "I can't find
// order 123" are not refusals.
var refusalSources = func() []string {
	const (
		neg    = `i (?:can't|cannot|can not|won't|will not|am unable to|am not able to)|i'm (?:unable to|not able to)`
		act    = `(?:help|assist|provide|fulfill|fulfil|comply|create|write|generate|produce|share|give|support|answer|discuss|engage|do that|do this|continue with|complete this|process this|go along)`
		object = `(?:that|this|it|such|those|these|your request|requests?|information|instructions|content|details|guidance|advice|assistance|help|any|a response|an answer|specific|recommendations|predictions|opinions)`
	)
	src := []string{
		// English
		`\b(?:i'm|i am) (?:sorry|afraid),? (?:but )?(?:` + neg + `) ` + act,
		`\b(?:sorry|unfortunately|apologies),? (?:but )?(?:` + neg + `) ` + act,
		`\b(?:` + neg + `) (?:help|assist)(?: you)? (?:with|on|create|write|make|build|generate|produce|find|get|access|bypass|hack|break)\b`,
		`\b(?:` + neg + `) (?:provide|give|share|offer|generate|create|write|produce|fulfill|fulfil) (?:[a-z'-]+ ){0,3}` + object + `\b`,
		`\b(?:` + neg + `) (?:comply|do that|do this|answer that|answer this|go along with)`,
		`\bi (?:must|have to|need to|'ll have to|will have to) (?:respectfully |politely )?(?:decline|refuse)`,
		`\bi(?:'m| am) not (?:able|allowed|permitted|comfortable) (?:to )?(?:help|assist|provide|share|discuss|give|do|write|create|helping|providing|writing|creating|sharing)`,
		`\bas an ai(?: language model| assistant| model)?,? i (?:can't|cannot|don't|do not|am not able|'m not able|am unable|'m unable|won't)`,
		`\bthat(?:'s| is) not something i (?:can|am able to|'m able to|will) (?:help|assist|do|provide)`,
		`\bthis (?:request )?(?:goes against|violates|is against) (?:my|our|the) (?:guidelines|policies|policy|usage polic|content polic|terms)`,
		`\bi (?:won't|will not) be able to (?:help|assist|provide|fulfill|comply|answer)`,
		// Spanish
		`\b(?:lo siento|lo lamento|disculpa|disculpe),? (?:pero )?no (?:puedo|podré|me es posible) (?:ayudar|asistir|proporcionar|brindar|cumplir|hacer eso|responder|dar|facilitar|generar|crear|escribir)`,
		`\bno (?:puedo|podré) (?:ayudarte|ayudarle|ayudar|asistirte|asistirle) con (?:eso|esto|esa|ese|esta|este|tu solicitud|su solicitud)`,
		`\bno (?:me es posible|estoy en condiciones de|estoy autorizad[oa] para) (?:ayudar|proporcionar|brindar|dar|compartir)`,
		`\bdebo (?:rechazar|declinar)`,
		// French
		`\bje suis (?:désolée?|navrée?),? mais je ne (?:peux|pourrai|suis pas en mesure de) `,
		`\bje ne (?:peux|pourrai) pas (?:vous |t')?(?:aider|assister|fournir|répondre|donner|accéder à cette|satisfaire|rédiger|créer|générer)`,
		`\bje ne suis pas en mesure de (?:vous |t')?(?:aider|fournir|répondre|donner|traiter)`,
		`\bje dois (?:refuser|décliner)`,
		// German
		`\b(?:es tut mir leid|leider|entschuldigung),? (?:aber )?(?:ich )?kann ich (?:ihnen |dir )?(?:dabei |damit |hierbei |hier )?nicht (?:helfen|weiterhelfen|behilflich|nachkommen)`,
		`\bich kann (?:ihnen |dir |euch )?(?:dabei |damit |hierbei |hier |bei dieser anfrage |bei diesem anliegen )?nicht (?:helfen|weiterhelfen|behilflich sein)`,
		`\b(?:es tut mir leid|leider),? (?:aber )?ich kann (?:ihnen |dir )?(?:keine|keinen|diese|diesen|solche|dabei|damit|hierbei)\b`,
		`\bich muss (?:diese anfrage |das |dies |ihre anfrage |deine anfrage )?(?:leider )?ablehnen`,
		`\b(?:dabei|damit|hierbei|hier|da) kann ich (?:ihnen |dir |euch )?(?:leider )?nicht (?:helfen|weiterhelfen|behilflich)`,
		`\b(?:das|dies|dabei) kann (?:und darf )?ich (?:leider )?nicht (?:tun|machen|beantworten|unterstützen)`,
		// Portuguese
		`\b(?:desculpe|lamento|sinto muito|infelizmente),? (?:mas )?(?:eu )?não (?:posso|consigo|poderei) (?:ajudar|fornecer|atender|responder|fazer isso|auxiliar|criar|escrever|gerar|compartilhar)`,
		`\b(?:eu )?não posso (?:te |lhe )?(?:ajudar|auxiliar) com (?:isso|isto|essa|esse|esta|este|sua solicitação|seu pedido)`,
		`\bnão (?:estou|sou) (?:autorizad[oa]|em condições|capaz) (?:a|de) (?:ajudar|fornecer|compartilhar|responder)`,
		// Italian
		`\bmi dispiace,? ma non (?:posso|sono in grado di|potrò) `,
		`\bnon (?:posso|potrò) (?:aiutarti|aiutarla|aiutare|fornire|fornirti|assisterti|assisterla|rispondere|soddisfare|scrivere|creare|generare)`,
		`\bnon sono in grado di (?:aiutarti|aiutarla|aiutare|fornire|rispondere|assisterti|soddisfare)`,
		`\bdevo (?:rifiutare|declinare)`,
		// Chinese
		`(?:抱歉|对不起|很抱歉|不好意思)[，,。！ ]*(?:但是?)?我(?:无法|不能|没办法|不可以)`,
		`我(?:无法|不能|没办法|不可以)(?:帮助|帮你|帮您|协助|提供|回答|满足|完成|处理|执行|生成|编写)`,
		// Japanese
		`(?:お手伝い|お答え|回答|ご回答|提供|ご提供|対応|ご対応|協力|ご協力|お応え|作成)(?:することは|することが|は)?(?:できません|できかねます|いたしかねます)`,
	}
	return src
}()

// refusalMatchers matches like one alternation of refusalSources, which scans the text once
// instead of once per pattern. That is a large program, and the regexp engine's cost grows
// with it at every byte, so for each text only the alternatives that can match it are used.
var refusalMatchers = newAlternationSet(refusalSources)

type refusalMatcher struct {
	extra []string
}

func newRefusalMatcher(extra []string) *refusalMatcher {
	m := &refusalMatcher{}
	for _, e := range extra {
		m.extra = append(m.extra, normalizeSpace(e))
	}
	return m
}

// match returns the refusing sentence of text, if the answer starts with a refusal.
func (m *refusalMatcher) match(text string) (string, bool) {
	head := text
	if utf8.RuneCountInString(head) > refusalWindow {
		n := 0
		for i := range head {
			if n == refusalWindow {
				head = head[:i]
				break
			}
			n++
		}
	}
	norm := normalizeSpace(head)
	// sentenceAt quotes the sentence of head around byte i of norm; the offsets are only
	// needed for a match, which most answers do not have.
	sentenceAt := func(i int) string {
		_, offs := normalizeWithOffsets(head, true)
		return sentenceAround(head, offs[i])
	}
	if hasRefusalTrigger(norm) {
		for _, loc := range refusalMatchers.forText(norm).FindAllStringIndex(norm, -1) {
			if quoted(norm, loc[0]) {
				continue
			}
			return sentenceAt(loc[0]), true
		}
	}
	for _, e := range m.extra {
		if i := strings.Index(norm, e); i >= 0 {
			return sentenceAt(i), true
		}
	}
	return "", false
}

func (d *detector) detectRefusal(v *spanView, text string) bool {
	if runesOver(strings.TrimSpace(text), d.cfg.Refusal.MaxChars) {
		return false
	}
	ev, ok := d.refusal.match(text)
	if !ok {
		return false
	}
	v.add(behavioral(d.cfg.Refusal.CheckConfig, llmschema.FlagCodeRefusal, "the model declined the request", ev))
	return true
}

// quoted reports whether the match at i lies inside quotation marks on its line: the
// answer cites a refusal (in a tutorial, a test, a story) rather than making one.
func quoted(s string, i int) bool {
	line := s[strings.LastIndexByte(s[:i], '\n')+1 : i]
	if strings.Count(line, `"`)%2 == 1 {
		return true
	}
	return strings.Count(line, "“") > strings.Count(line, "”") ||
		strings.Count(line, "«") > strings.Count(line, "»") ||
		strings.Count(line, "「") > strings.Count(line, "」")
}

// refusalTriggers: every refusal pattern contains one of these substrings. Checking them
// first keeps the regular expression off the vast majority of answers.
var refusalTriggers = []string{
	"sorry", "unfortunately", "apolog", "can't", "cannot", "can not", "won't", "will not", "unable",
	"not able", "not allowed", "not permitted", "not comfortable", "decline", "refuse", "as an ai",
	"not something", "against", "violates", "puedo", "podré", "posible", "condiciones", "autorizad",
	"debo", "ne peux", "ne pourrai", "en mesure", "je dois", "nicht", "ablehnen", "não", "non posso",
	"non potrò", "non sono in grado", "mi dispiace", "devo", "无法", "不能", "没办法", "不可以",
	"できません", "できかねます", "いたしかねます",
}

var refusalTriggerSet = newAnchoredSet(refusalTriggers)

func hasRefusalTrigger(norm string) bool {
	return refusalTriggerSet.in(norm)
}
