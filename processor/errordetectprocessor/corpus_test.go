package errordetectprocessor

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// behavioralCodes are the silent-failure categories the corpus measures.
var behavioralCodes = []string{
	llmschema.FlagCodeRefusal, llmschema.FlagCodeEmptyOutput, llmschema.FlagCodeRepetition,
	llmschema.FlagCodeOffTopic, llmschema.FlagCodeWorkflowInterruption, llmschema.FlagCodeSafetyViolation,
	llmschema.FlagCodeHallucination, llmschema.FlagCodeContextLoss,
}

const (
	minPrecision = 0.9
	minRecall    = 0.7
	// minPositives and minCases per category keep the measurement meaningful.
	minPositives = 10
	minCases     = 25
)

// TestCorpus_PrecisionRecall runs every labelled trace of testdata/corpus through the
// processor with the default configuration and measures, per behavioral category, how
// many flags were right (precision) and how many labelled failures were found (recall).
// Every case counts for every category: a case is a negative for each code it does not
// expect, so a check that fires on another category's examples loses precision.
func TestCorpus_PrecisionRecall(t *testing.T) {
	per := measure(t, loadCorpus(t))
	for _, code := range behavioralCodes {
		k := per[code]
		if k.examples < minCases || k.positives < minPositives {
			t.Errorf("%s: corpus has %d examples and %d positives, want at least %d and %d", code, k.examples, k.positives, minCases, minPositives)
		}
		if p := k.precision(); p < minPrecision {
			t.Errorf("%s: precision %.2f below %.2f", code, p, minPrecision)
		}
		if r := k.recall(); r < minRecall {
			t.Errorf("%s: recall %.2f below %.2f", code, r, minRecall)
		}
	}
}

// TestHoldout_PrecisionRecall measures testdata/holdout: traces written after the
// thresholds were frozen and never used to tune them, so it estimates how the checks do on
// conversations they were not fitted to. It is small (8 per category), so it is judged on
// the totals over all categories.
func TestHoldout_PrecisionRecall(t *testing.T) {
	per := measure(t, loadCases(t, filepath.Join("testdata", "holdout")))
	var all counts
	for _, k := range per {
		all.tp += k.tp
		all.fp += k.fp
		all.fn += k.fn
	}
	t.Logf("holdout total: precision %.2f, recall %.2f", all.precision(), all.recall())
	if p := all.precision(); p < 0.8 {
		t.Errorf("holdout precision %.2f below 0.80", p)
	}
	if r := all.recall(); r < 0.6 {
		t.Errorf("holdout recall %.2f below 0.60", r)
	}
}

type counts struct{ tp, fp, fn, tn, positives, examples int }

func (k counts) precision() float64 { return ratio(k.tp, k.tp+k.fp) }
func (k counts) recall() float64    { return ratio(k.tp, k.tp+k.fn) }

// measure runs the cases through the processor with the default configuration and counts,
// per behavioral category, how many flags were right and how many labelled failures were
// found. Every case counts for every category: a case is a negative for each code it does
// not expect, so a check that fires on another category's examples loses precision.
func measure(t *testing.T, cases []testCase) map[string]*counts {
	t.Helper()
	td := runProcessor(t, createDefaultConfig(), buildTraces(cases...))
	got := codesByTrace(t, td)

	per := map[string]*counts{}
	for _, code := range behavioralCodes {
		per[code] = &counts{}
	}
	for i, c := range cases {
		for _, code := range c.Expect {
			if _, ok := per[code]; !ok {
				t.Fatalf("case %s expects unknown code %q", c.ID, code)
			}
		}
		category := strings.SplitN(c.ID, "-", 2)[0]
		if k, ok := per[categoryCode(category)]; ok {
			k.examples++
		}
		for _, code := range behavioralCodes {
			k := per[code]
			want := slices.Contains(c.Expect, code)
			f, have := got[i][code]
			switch {
			case want && have:
				k.tp++
			case want && !have:
				k.fn++
				t.Logf("MISS  %-28s %s: %s", c.ID, code, c.Note)
			case !want && have:
				k.fp++
				t.Logf("FALSE %-28s %s: %s (evidence %q)", c.ID, code, c.Note, f.Evidence)
			default:
				k.tn++
			}
			if want {
				k.positives++
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-22s %8s %9s %5s %5s %5s %6s %9s\n", "category", "examples", "positives", "TP", "FP", "FN", "prec", "recall")
	for _, code := range behavioralCodes {
		k := per[code]
		fmt.Fprintf(&b, "%-22s %8d %9d %5d %5d %5d %6.2f %9.2f\n", code, k.examples, k.positives, k.tp, k.fp, k.fn, k.precision(), k.recall())
	}
	t.Log(b.String())
	return per
}

// categoryCode maps a corpus file's case-ID prefix to its flag code.
func categoryCode(prefix string) string {
	switch prefix {
	case "refusal":
		return llmschema.FlagCodeRefusal
	case "empty":
		return llmschema.FlagCodeEmptyOutput
	case "repetition":
		return llmschema.FlagCodeRepetition
	case "offtopic":
		return llmschema.FlagCodeOffTopic
	case "workflow":
		return llmschema.FlagCodeWorkflowInterruption
	case "safety":
		return llmschema.FlagCodeSafetyViolation
	case "halluc":
		return llmschema.FlagCodeHallucination
	case "ctxloss":
		return llmschema.FlagCodeContextLoss
	}
	return ""
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
