package judge

import (
	"strings"
	"testing"
)

func TestParseVerdict_RealWorldShapes(t *testing.T) {
	tests := []struct {
		name       string
		reply      string
		outputType string
		threshold  float64
		want       any
		passed     bool
		reason     string
		wantErr    string
	}{
		// Structured output and plain JSON.
		{name: "json_schema reply", reply: `{"reason":"Grounded in doc 2.","score":"PASS"}`, outputType: OutputBoolean, want: true, passed: true, reason: "Grounded in doc 2."},
		{name: "fail lower case", reply: `{"reason":"Invents a refund window.","score":"fail"}`, outputType: OutputBoolean, want: false, reason: "Invents a refund window."},
		{name: "json bool", reply: `{"score": true, "reason": "ok"}`, outputType: OutputBoolean, want: true, passed: true, reason: "ok"},
		{name: "json 1/0 for boolean", reply: `{"score": 0, "reason": "no"}`, outputType: OutputBoolean, want: false, reason: "no"},
		{name: "verdict key", reply: `{"verdict": "FAIL", "explanation": "off topic"}`, outputType: OutputBoolean, want: false, reason: "off topic"},
		{name: "capitalised keys", reply: `{"Score": 4, "Reasoning": "minor gap"}`, outputType: OutputScale15, threshold: 4, want: 4.0, passed: true, reason: "minor gap"},
		{name: "nested object", reply: `{"evaluation": {"rating": 2, "rationale": "misses step 3"}}`, outputType: OutputScale15, threshold: 4, want: 2.0, reason: "misses step 3"},
		{name: "score as string number", reply: `{"score": "0.75", "reason": "mostly"}`, outputType: OutputFloat01, threshold: 0.5, want: 0.75, passed: true, reason: "mostly"},
		{name: "score fraction string", reply: `{"score": "4/5", "reason": "good"}`, outputType: OutputScale15, threshold: 4, want: 4.0, passed: true, reason: "good"},
		{name: "float below threshold", reply: `{"score": 0.3, "reason": "weak"}`, outputType: OutputFloat01, threshold: 0.5, want: 0.3, reason: "weak"},
		{name: "percentage", reply: `{"score": "85%", "reason": "r"}`, outputType: OutputFloat01, threshold: 0.5, want: 0.85, passed: true, reason: "r"},
		// JSON wrapped in fences or prose (models without structured output).
		{name: "json fence", reply: "```json\n{\"score\": \"PASS\", \"reason\": \"fine\"}\n```", outputType: OutputBoolean, want: true, passed: true, reason: "fine"},
		{name: "bare fence", reply: "```\n{\"score\": 5, \"reason\": \"complete\"}\n```", outputType: OutputScale15, threshold: 4, want: 5.0, passed: true, reason: "complete"},
		{name: "prose around json", reply: "Here is my evaluation:\n{\"reason\": \"The answer cites {doc 1}.\", \"score\": \"PASS\"}\nLet me know if you need more.", outputType: OutputBoolean, want: true, passed: true, reason: "The answer cites {doc 1}."},
		{name: "think block then json", reply: "<think>The user asked X. The answer says {\"score\": \"PASS\"}? No, it is wrong.</think>\n{\"score\": \"FAIL\", \"reason\": \"wrong capital\"}", outputType: OutputBoolean, want: false, reason: "wrong capital"},
		{name: "unclosed think prefix", reply: "Okay, let me reason...</think>{\"score\": 3, \"reason\": \"partial\"}", outputType: OutputScale15, threshold: 4, want: 3.0, reason: "partial"},
		// Plain text.
		{name: "PASS alone", reply: "PASS", outputType: OutputBoolean, want: true, passed: true, reason: "PASS"},
		{name: "FAIL with reason", reply: "FAIL - the response talks about cooking instead of billing.", outputType: OutputBoolean, want: false, reason: "FAIL - the response talks about cooking instead of billing."},
		{name: "markdown bold verdict", reply: "**Verdict:** PASS\n\nThe answer matches the documents.", outputType: OutputBoolean, want: true, passed: true},
		{name: "labelled verdict wins over prose words", reply: "The answer is not correct about dates, but no harm done.\nVerdict: FAIL", outputType: OutputBoolean, want: false},
		{name: "yes", reply: "Yes.", outputType: OutputBoolean, want: true, passed: true},
		{name: "score label", reply: "Score: 4\nReason: covers everything but the refund.", outputType: OutputScale15, threshold: 4, want: 4.0, passed: true},
		{name: "rating out of 5", reply: "I would rate this 2/5 because the task was not completed.", outputType: OutputScale15, threshold: 4, want: 2.0},
		{name: "rating out of 10 rescaled", reply: "Rating: 8/10", outputType: OutputScale15, threshold: 4, want: 4.2, passed: true},
		{name: "bare number", reply: "0.9", outputType: OutputFloat01, threshold: 0.5, want: 0.9, passed: true},
		{name: "number in parentheses", reply: "(3) partially done", outputType: OutputScale15, threshold: 4, want: 3.0},
		// Errors.
		{name: "empty", reply: "  ", outputType: OutputBoolean, wantErr: "empty"},
		{name: "no verdict", reply: "I cannot evaluate this.", outputType: OutputBoolean, wantErr: "no PASS/FAIL"},
		{name: "ambiguous", reply: "Part of it would pass, part would fail.", outputType: OutputBoolean, wantErr: "both pass and fail"},
		{name: "scale out of range", reply: `{"score": 7, "reason": "x"}`, outputType: OutputScale15, wantErr: "from 1 to 5"},
		{name: "float out of range", reply: `{"score": 4, "reason": "x"}`, outputType: OutputFloat01, wantErr: "from 0 to 1"},
		{name: "no number", reply: "Looks great!", outputType: OutputScale15, wantErr: "no number"},
		{name: "word for scale", reply: `{"score": "excellent"}`, outputType: OutputScale15, wantErr: "want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseVerdict(tt.reply, tt.outputType, tt.threshold)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q (verdict %+v)", err, tt.wantErr, v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := tt.want.(float64); ok {
				got, isF := v.Value.(float64)
				if !isF || got < f-1e-9 || got > f+1e-9 {
					t.Fatalf("value = %#v, want %v", v.Value, f)
				}
			} else if v.Value != tt.want {
				t.Fatalf("value = %#v, want %#v", v.Value, tt.want)
			}
			if v.Passed != tt.passed {
				t.Fatalf("passed = %v, want %v", v.Passed, tt.passed)
			}
			if tt.reason != "" && v.Reason != tt.reason {
				t.Fatalf("reason = %q, want %q", v.Reason, tt.reason)
			}
		})
	}
}

func TestReplyText_ResponseShapes(t *testing.T) {
	tests := []struct {
		name, body, want, wantErr string
	}{
		{name: "string content", body: `{"choices":[{"message":{"content":"PASS"}}]}`, want: "PASS"},
		{name: "content parts", body: `{"choices":[{"message":{"content":[{"type":"text","text":"{\"score\":"},{"type":"text","text":"\"PASS\"}"}]}}]}`, want: `{"score":"PASS"}`},
		{name: "tool call arguments", body: `{"choices":[{"message":{"content":null,"tool_calls":[{"function":{"name":"verdict","arguments":"{\"score\":2}"}}]}}]}`, want: `{"score":2}`},
		{name: "refusal", body: `{"choices":[{"message":{"content":null,"refusal":"I can't help with that."}}]}`, wantErr: "refused"},
		{name: "error object", body: `{"error":{"message":"model not found"}}`, wantErr: "model not found"},
		{name: "no choices", body: `{"choices":[]}`, wantErr: "no choices"},
		{name: "not json", body: `<html>bad gateway</html>`, wantErr: "not a chat completions response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replyText([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("replyText = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
