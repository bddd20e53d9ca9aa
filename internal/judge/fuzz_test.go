package judge

import (
	"testing"
)

// FuzzParseVerdict: any reply either fails with an error or yields a value in the output
// type's range whose pass/fail agrees with the threshold.
func FuzzParseVerdict(f *testing.F) {
	for _, s := range []string{
		`{"reason":"x","score":"PASS"}`, "```json\n{\"score\": 4}\n```", "<think>a</think>FAIL", "Score: 8/10",
		"85%", "{\"evaluation\": {\"rating\": 2}}", "Verdict: **PASS**", "{{{{", `{"score": "4/0"}`, "1e309",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		for _, ot := range []string{OutputBoolean, OutputScale15, OutputFloat01} {
			m := Metric{OutputType: ot}
			v, err := parseVerdict(reply, ot, m.Threshold())
			if err != nil {
				continue
			}
			switch x := v.Value.(type) {
			case bool:
				if ot != OutputBoolean || v.Passed != x {
					t.Fatalf("%s: bool %v passed %v", ot, x, v.Passed)
				}
			case float64:
				lo, hi := 0.0, 1.0
				if ot == OutputScale15 {
					lo, hi = 1, 5
				}
				if ot == OutputBoolean || x < lo || x > hi || v.Passed != (x >= m.Threshold()) {
					t.Fatalf("%s: value %v passed %v", ot, x, v.Passed)
				}
			default:
				t.Fatalf("%s: value of type %T", ot, v.Value)
			}
			if len(v.Reason) > maxReasonChars*4+32 {
				t.Fatalf("reason of %d bytes", len(v.Reason))
			}
		}
	})
}
