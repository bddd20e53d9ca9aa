package llmextractprocessor

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tracehound/tracehound/internal/llmschema"
)

func TestAppendMessages_DecodesLikeEncodingJSON(t *testing.T) {
	msgs := []llmschema.Message{
		{Role: "user", Parts: []llmschema.Part{
			{Type: "text", Content: "quote \" backslash \\ newline \n tab \t ctrl \x01 <tag> & \u2028 é 日本"},
			{Type: "blob", Modality: "image", MIMEType: "image/png", Content: "iVBORw0KGgo="},
			{Type: "uri", Modality: "image", URI: "https://example.com/a.png"},
		}},
		{Role: "assistant", FinishReason: "tool_calls", Name: "bot", Parts: []llmschema.Part{
			{Type: "tool_call", ID: "c1", Name: "f", Arguments: json.RawMessage(`{ "a" : [1, 2] }`)},
			{Type: "tool_call", ID: "c2", Name: "g", Arguments: map[string]any{"z": 1.5, "a": []any{true, nil}}},
		}},
		{Role: "tool", Parts: []llmschema.Part{{Type: "tool_call_response", ID: "c1", Response: map[string]any{"ok": true}}, {Type: "text", Content: ""}}},
		{Role: "empty", Parts: []llmschema.Part{}},
	}
	raw, err := appendMessages(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", raw, err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("appendMessages decodes to\n%v\nencoding/json to\n%v", got, exp)
	}
}

func TestAppendString_InvalidUTF8BecomesReplacement(t *testing.T) {
	var s string
	if err := json.Unmarshal(appendString(nil, "a\xffb"), &s); err != nil || s != "a\uFFFDb" {
		t.Fatalf("got %q, %v", s, err)
	}
}

func TestInvocationModel(t *testing.T) {
	for in, want := range map[string]string{
		`{"model":"gpt-4o-mini","temperature":0}`:            "gpt-4o-mini",
		`{"temperature":0.2,"stop":["a"],"model": "claude"}`: "claude",
		`{"temperature":0}`:                                  "",
		`{"model":5}`:                                        "",
		`not json`:                                           "",
		`{"a":{"model":"x"}}`:                                "",
	} {
		if got := invocationModel(in); got != want {
			t.Errorf("invocationModel(%s) = %q, want %q", in, got, want)
		}
	}
}
