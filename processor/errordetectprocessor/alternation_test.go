package errordetectprocessor

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		re   string
		want []string
	}{
		{`abc`, []string{"abc"}},
		{`\bi (?:can't|cannot) help`, []string{" help"}},
		{`(?:sorry|unfortunately),? x`, []string{"sorry", "unfortunately"}},
		{`a?b*`, nil},
		{`(?:a|b*)`, nil},
		{`(?i)abc`, nil},
		{`[ab]c{2,}`, []string{"c"}},
	}
	for _, tt := range tests {
		re, err := syntax.Parse(tt.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got := requiredLiterals(re.Simplify())
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("requiredLiterals(%s) = %q, want %q", tt.re, got, tt.want)
		}
	}
}

// refusalTexts are normalized answer heads with and without declines, in every language
// the patterns cover.
var refusalTexts = []string{
	"what's your e-mail address?", "could you share your order number?", "what is your full name", "your phone number please",
	"what's the shipping address", "your date of birth?", "zip code?", "¿cuál es tu número de pedido?", "votre nom ?", "ihren namen bitte",
	"", "i'm sorry, but i can't help with that.", "i can't find order 123", "we can't ship to po boxes",
	"sorry, i cannot provide that information. \"i can't help\" is what it said", "i must respectfully decline",
	"as an ai language model, i don't have opinions", "this request violates our usage policies",
	"lo siento, pero no puedo ayudar con eso", "je suis désolé, mais je ne peux pas", "es tut mir leid, aber dabei kann ich nicht helfen",
	"desculpe, mas não posso ajudar", "mi dispiace, ma non posso farlo", "抱歉，，我无法帮助", "我不能帮你", "お手伝いすることはできません",
	"i won't be able to help, and i can't assist with hacking. i'm not comfortable writing that",
	"that's not something i can help with; ich muss leider ablehnen; devo rifiutare",
}

func TestGatedRegexp_Literals(t *testing.T) {
	for _, slot := range infoSlots {
		if slot.noun.required == nil {
			t.Errorf("%s noun: no required literals found, the gate never skips", slot.name)
		}
		t.Logf("%s: %q", slot.name, slot.noun.required)
	}
}

func TestAlternationSet_MatchesLikeFullAlternation(t *testing.T) {
	for _, s := range refusalTexts {
		checkAlternation(t, s)
	}
}

func FuzzAlternationSet(f *testing.F) {
	for _, s := range refusalTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAlternation(t, s) })
}

func checkAlternation(t *testing.T, s string) {
	t.Helper()
	for _, slot := range infoSlots {
		if got, want := slot.noun.FindStringIndex(s), slot.noun.Regexp.FindStringIndex(s); !slices.Equal(got, want) {
			t.Fatalf("gated %s noun finds %v in %q, the regexp %v", slot.name, got, s, want)
		}
	}
	got := fmt.Sprint(refusalMatchers.forText(s).FindAllStringIndex(s, -1))
	want := fmt.Sprint(refusalMatchers.full.FindAllStringIndex(s, -1))
	if got != want {
		t.Fatalf("alternation subset finds %s in %q, the full alternation %s", got, s, want)
	}
}
