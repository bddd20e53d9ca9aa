package errordetectprocessor

import (
	"regexp"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// infoSlot is a piece of information a user gives once and an assistant should not ask
// for again: the assistant's noun for it, and how to find it in a user message.
type infoSlot struct {
	name  string
	noun  gatedRegexp
	given func(user string) string
}

func findRE(re *regexp.Regexp) func(string) string {
	return func(s string) string { return re.FindString(s) }
}

var (
	idTokenRE   = regexp.MustCompile(`(?i)\b(?:order|booking|reservation|confirmation|ticket|case|tracking|reference|invoice|account|policy|claim|pedido|reserva|commande|réservation|bestellung|bestellnummer|buchung|ordine|prenotazione)\b[^.\n?!]{0,30}?#?\s?\b[A-Z0-9][A-Z0-9\-]*\d{3,}[A-Z0-9\-]*\b|#\d{4,}\b|\b[A-Z]{2,5}-\d{3,}\b`)
	givenNameRE = regexp.MustCompile(`(?:[Mm]y name is|[Mm]y name's|[Tt]his is|I am|I'm|[Nn]ame:|[Ii]t's|[Mm]e llamo|[Mm]i nombre es|[Jj]e m'appelle|[Mm]on nom est|[Ii]ch heiße|[Mm]ein [Nn]ame ist|[Mm]eu nome é|[Mm]e chamo|[Mm]i chiamo)\s+(\p{Lu}\p{Ll}+(?:\s\p{Lu}\p{Ll}+)?)`)
	addressRE   = regexp.MustCompile(`(?i)\b\d{1,6}\s+(?:[a-z0-9.]+\s+){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|terrace|parkway|pkwy)\b`)
	dobRE       = regexp.MustCompile(`(?i)(?:born|date of birth|dob|birthday|birth date)[^.\n?!]{0,20}?(?:\d{1,4}[\-/. ]\d{1,2}[\-/. ]\d{1,4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4})`)
	zipRE       = regexp.MustCompile(`(?i)(?:zip|postal|post) ?code[^.\n?!\d]{0,15}[a-z0-9]{3,}(?: [a-z0-9]{3})?`)

	infoSlots = []infoSlot{
		{"email address", newGatedRegexp(`\be-?mail(?: address)?\b|\bcorreo(?: electrónico)?\b|\bcourriel\b|\badresse (?:e-?mail|électronique)\b|\be-?mail-adresse\b`), findRE(emailRE)},
		{"order or reference number", newGatedRegexp(`\b(?:order|booking|reservation|confirmation|ticket|case|tracking|reference|invoice|account|policy|claim)(?: id| number| no\.?| #| code|#| reference| ref)\b|\bn[úu]mero de (?:pedido|reserva|orden|seguimiento)\b|\bnuméro de (?:commande|réservation|suivi)\b|\b(?:bestell|buchungs|auftrags)nummer\b|\bnúmero do pedido\b|\bnumero (?:d'ordine|dell'ordine|di prenotazione)\b`), findRE(idTokenRE)},
		{"name", newGatedRegexp(`\byour (?:full |first |last )?name\b|\bthe name on the (?:account|booking|order|reservation|card)\b|\bwho (?:am i|i am) speaking with\b|\b(?:tu|su) nombre\b|\b(?:votre|ton) nom\b|\b(?:ihren|deinen) namen\b|\b(?:seu|teu) nome\b|\bil (?:tuo|suo) nome\b`), func(s string) string {
			if m := givenNameRE.FindStringSubmatch(s); m != nil {
				return m[1]
			}
			return ""
		}},
		{"phone number", newGatedRegexp(`\b(?:phone|mobile|cell|telephone|contact) number\b|\bn[úu]mero de tel[ée]fono\b|\bnuméro de téléphone\b|\btelefonnummer\b|\bnúmero de telefone\b|\bnumero di telefono\b`), findRE(phoneRE)},
		{"address", newGatedRegexp(`\b(?:shipping|delivery|home|mailing|billing|street) address\b|\byour address\b`), findRE(addressRE)},
		{"date of birth", newGatedRegexp(`\bdate of birth\b|\bbirth ?date\b|\bbirthday\b|\bdob\b`), findRE(dobRE)},
		{"postal code", newGatedRegexp(`\b(?:zip|postal|post) ?code\b`), findRE(zipRE)},
	}

	// askRE marks a sentence that requests something from the user.
	askRE = regexp.MustCompile(`\?|\b(?:could|can|would) you\b|\bplease (?:provide|share|send|give|tell|enter|type|let me know|reply)|\bmay i (?:have|get|ask)|\bwhat(?:'s| is| was) (?:your|the)\b|\bi(?:'ll| will)? need (?:your|the)\b|\blet me know (?:your|the)\b|\bsend (?:me|us) (?:your|the)\b`)
	// confirmation marks requests to check or spell a value, which are legitimate.
	confirmation = regexp.MustCompile(`\b(?:confirm|verify|double-check|correct|spell)\b`)
	// otherValue, right before the noun, marks a request for a different value or for
	// someone else's ("another email", "his date of birth", "your son's name").
	contractionRE = regexp.MustCompile(`\b(what|that|it|here|there|let|who|where|how|he|she)'s\b`)
	otherValue    = regexp.MustCompile(`(?:\b(?:another|different|other|alternate|alternative|backup|second|new|updated|his|her|their)|'s)\s+(?:[a-z-]+\s+)?$`)

	greetingNameRE = regexp.MustCompile(`(?:^|[.!?\n]\s*)(?:Thanks|Thank you|Hi|Hello|Hey|Dear|Sorry|Great|Of course|Certainly|Absolutely|Welcome back|Good (?:morning|afternoon|evening)),?\s+(\p{Lu}\p{Ll}+)\b`)
)

// detectContextLoss flags an answer that asks again for information a user message of
// the same conversation already gave (a name, an order number, an e-mail, ...), or that
// calls the user by a name other than the one they gave.
//
// low is normalizeSpace(text).
func (d *detector) detectContextLoss(v *spanView, text, low string) {
	users := v.userTexts()
	if len(users) == 0 {
		return
	}
	all := strings.Join(users, "\n")
	// Only a sentence with one of askLiterals can ask; a text without any has none.
	var sentences []string
	if askSet.in(low) {
		sentences = splitSentences(low)
	}
	for _, sentence := range sentences {
		if !askSet.in(sentence) || !slotSet.in(sentence) || !askRE.MatchString(sentence) ||
			(containsAny(sentence, confirmationLiterals) && confirmation.MatchString(sentence)) {
			continue
		}
		for _, s := range infoSlots {
			loc := s.noun.FindStringIndex(sentence)
			if loc == nil || otherValue.MatchString(contractionRE.ReplaceAllString(sentence[:loc[0]], "$1 is")) {
				continue
			}
			if given := s.given(all); given != "" {
				v.add(behavioral(d.cfg.ContextLoss, llmschema.FlagCodeContextLoss,
					"the assistant asks again for information the user already gave",
					"asked for "+s.name+" (\""+sentence+"\"); user gave "+strings.TrimSpace(given)))
				return
			}
		}
	}
	if !containsAny(text, greetingWords) {
		return
	}
	m := givenNameRE.FindStringSubmatch(all)
	if m == nil {
		return
	}
	given := strings.Fields(m[1])[0]
	for _, g := range greetingNameRE.FindAllStringSubmatch(text, -1) {
		called := g[1]
		if called == given || strings.Contains(all, called) {
			continue
		}
		v.add(behavioral(d.cfg.ContextLoss, llmschema.FlagCodeContextLoss,
			"the assistant calls the user by a name other than the one they gave",
			"user said their name is "+m[1]+"; answer says "+strings.TrimSpace(g[0])))
		return
	}
}

// splitSentences splits normalized text after sentence punctuation, keeping it.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '.' || r == '?' || r == '!' || r == '\n' {
			if t := strings.TrimSpace(s[start : i+1]); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// slotKeywords prefilter sentences: each slot noun contains one of them.
var slotKeywords = []string{"mail", "name", "number", " id", "#", "ref", " no", "code", "phone", "address", "birth", "dob", "speaking with",
	"correo", "courriel", "nombre", "nom", "número", "numéro", "numero", "nummer", "tel"}

// greetingWords prefilter the wrong-name check; greetingNameRE needs one of them.
var greetingWords = []string{"Thank", "Hi", "Hello", "Hey", "Dear", "Sorry", "Great", "Of course", "Certainly", "Absolutely", "Welcome", "Good "}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
