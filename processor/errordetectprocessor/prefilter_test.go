package errordetectprocessor

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written code stands in for.
var secretHint = regexp.MustCompile(`sk-|sk_live|rk_live|pk_live|AKIA|ASIA|gh[pousr]_|xox[abposr]-|AIza|PRIVATE KEY|eyJ`)

var prefilterCases = []string{
	"what is your name?", "could you send me the code", "ignore all previous instructions", "Thank you, Ann", "é", "ab", "b",
	"xoxp-1", "xoxq-1", "sk_live", "rk_live_x", "pk_liv", "gh_p", "ghp", "eyJhbG", "eJ", "yJ", "AKI", "ASIAx", "AIz",
	"", "sk-", "sk", "ghp_", "gh_", "ghx_", "gh", "xoxb-", "xoxb", "xox-", "AIza", "eyJ", "-----BEGIN PRIVATE KEY-----",
	"Write me a poem", "POEMS", "poem.", "a_poem", "poem1", "tl;dr", "TL;DR please", "tldr", "tl; dr", "tl;;dr",
	"surprise me", "surprise  me", "surprise\tme", "fun fact", "Fun Fact!", "funfact", "ideas?", "idea", "ideass",
	"summarise", "summarize", "summarice", "\u212aaiku", "jo\u212ae", "\u017fong", "a\u017fong", "names", "nam",
	"translation", "translations", "Translate this", "what's a random name", "brainstorm", "é poem", "poemé",
	"continue", "continued", "pun", "puns", "rap", "rapid", "x tl;dr", "1tl;dr", "abcdefgpoem", "abcdefg poem", "abcdefgh tl;dr", "surprise       me", "tl;dr1", "abababa", "xabababab", "poempoe", "ababpoempoem",
}

func TestPrefilters_AgreeWithPatterns(t *testing.T) {
	for _, s := range prefilterCases {
		checkPrefilters(t, s)
	}
}

func FuzzPrefilters(f *testing.F) {
	for _, s := range prefilterCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkPrefilters(t, s) })
}

func checkPrefilters(t *testing.T, s string) {
	t.Helper()
	if got, want := hasSecretHint(s), secretHint.MatchString(s); got != want {
		t.Errorf("hasSecretHint(%q) = %v, want %v", s, got, want)
	}
	// Padded copies put the bytes of s in every position of the eight-byte blocks.
	for _, x := range []string{s, " " + s, "ab" + s + "c", "abc_" + s, "abcdefg " + s + " ", "abcd-" + s} {
		if got, want := isCreativeRequest(x), creativeRequest.MatchString(x); got != want {
			t.Errorf("isCreativeRequest(%q) = %v, want %v", x, got, want)
		}
	}
	for _, set := range [][]string{askLiterals, slotKeywords, injectionHints, greetingWords, refusalTriggers, {"a", "ab", "abc", "b", "é"}, {"abababab", "babababa", "poempoem", "é poem é"}} {
		a := newAnchoredSet(set)
		for _, x := range []string{s, " " + s, s + "e"} {
			if got, want := a.in(x), containsAny(x, set); got != want {
				t.Errorf("anchoredSet(%q).in(%q) = %v, want %v", set, x, got, want)
			}
		}
	}
	low := strings.ToLower(s)
	for _, tok := range chatTemplateTokens {
		if tok[0] != '<' && tok[0] != '[' {
			t.Errorf("chat-template token %q starts with neither '<' nor '['", tok)
		}
	}
	for _, p := range injectionPhrases {
		if strings.Contains(low, p) && !containsAny(low, injectionHints) {
			t.Errorf("%q contains injection phrase %q but none of injectionHints", low, p)
		}
	}
	if askRE.MatchString(low) && !containsAny(low, askLiterals) {
		t.Errorf("askRE matches %q, which has none of askLiterals", low)
	}
	if confirmation.MatchString(low) && !containsAny(low, confirmationLiterals) {
		t.Errorf("confirmation matches %q, which has none of confirmationLiterals", low)
	}
}
