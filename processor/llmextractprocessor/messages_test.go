package llmextractprocessor

import (
	"encoding/json"
	"math"
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

func TestNormalizeProvider(t *testing.T) {
	for in, want := range map[string]string{
		"openai": "openai", "openai.chat": "openai", "openai.responses": "openai", "OpenAI": "openai",
		"anthropic.messages": "anthropic", "google.generative-ai": "gcp.gemini", "google.vertex.chat": "gcp.vertex_ai",
		"amazon-bedrock": "aws.bedrock", "aws.bedrock": "aws.bedrock", "azure.ai.openai": "azure.ai.openai",
		"az.ai.inference": "azure.ai.inference", "mistral.chat": "mistral_ai", "xai.chat": "x_ai",
		"gcp.vertex_ai": "gcp.vertex_ai", "ibm.watsonx.ai": "ibm.watsonx.ai", "acme": "acme",
	} {
		if got := normalizeProvider(in); got != want {
			t.Errorf("normalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConvertMessage_MultimodalAndToolPartsSurvive(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []llmschema.Part
	}{
		{"openai image_url and text", `{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}`,
			[]llmschema.Part{{Type: "text", Content: "look"}, {Type: "blob", Modality: "image", MIMEType: "image/png", Content: "AAAA"}}},
		{"openai audio input", `{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]}`,
			[]llmschema.Part{{Type: "blob", Modality: "audio", MIMEType: "audio/wav", Content: "UklG"}}},
		{"anthropic base64 image", `{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]}`,
			[]llmschema.Part{{Type: "blob", Modality: "image", MIMEType: "image/jpeg", Content: "/9j/"}}},
		{"vercel pdf file", `{"role":"user","content":[{"type":"file","mediaType":"application/pdf","data":"JVBERi0="}]}`,
			[]llmschema.Part{{Type: "blob", Modality: "file", MIMEType: "application/pdf", Content: "JVBERi0="}}},
		{"anthropic tool_use and thinking", `{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"tool_use","id":"t1","name":"calc","input":{"x":1}}]}`,
			[]llmschema.Part{{Type: "reasoning", Content: "hmm"}, {Type: "tool_call", ID: "t1", Name: "calc", Arguments: map[string]any{"x": 1.0}}}},
		{"anthropic tool_result", `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"2"}]}]}`,
			[]llmschema.Part{{Type: "tool_call_response", ID: "t1", Response: "2"}}},
		{"openai tool message", `{"role":"tool","tool_call_id":"c9","content":"{\"ok\":true}"}`,
			[]llmschema.Part{{Type: "tool_call_response", ID: "c9", Response: `{"ok":true}`}}},
		{"openai assistant tool_calls", `{"role":"assistant","content":null,"tool_calls":[{"id":"c9","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}`,
			[]llmschema.Part{{Type: "tool_call", ID: "c9", Name: "f", Arguments: json.RawMessage(`{"a":1}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tt.in), &m); err != nil {
				t.Fatal(err)
			}
			got := convertMessage(m["role"].(string), m)
			if !reflect.DeepEqual(got.Parts, tt.want) {
				t.Errorf("parts = %#v\nwant %#v", got.Parts, tt.want)
			}
		})
	}
}

func TestClaudeContextMessages(t *testing.T) {
	got := claudeContextMessages("[TOOL RESULT: t1]\nline\n\n---\n\nstill the result\n\n---\n\n[USER]\nnext question")
	want := []llmschema.Message{
		{Role: "tool", Parts: []llmschema.Part{{Type: "tool_call_response", ID: "t1", Response: "line\n\n---\n\nstill the result"}}},
		{Role: "user", Parts: []llmschema.Part{{Type: "text", Content: "next question"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if got := claudeContextMessages("plain prompt"); len(got) != 1 || got[0].Role != "user" || got[0].Parts[0].Content != "plain prompt" {
		t.Errorf("plain text: %#v", got)
	}
}

// appendDocs must write what json.Marshal writes, and fail where it fails.
func checkDocsLikeEncodingJSON(t *testing.T, docs []llmschema.Document) {
	t.Helper()
	want, err := json.Marshal(docs)
	got, ok := appendDocs(nil, docs)
	if ok != (err == nil) {
		t.Fatalf("appendDocs ok = %v, json.Marshal error %v, for %#v", ok, err, docs)
	}
	if ok && string(got) != string(want) {
		t.Fatalf("appendDocs wrote\n %s\njson.Marshal\n %s", got, want)
	}
}

func TestAppendDocs_MatchesEncodingJSON(t *testing.T) {
	scores := []float64{0, math.Copysign(0, -1), 1, -2.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 5e-324,
		1e20, 1e21, 123456789e15, -1e21, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, sc := range scores {
		checkDocsLikeEncodingJSON(t, []llmschema.Document{{ID: "d1", Content: "x", Score: sc}})
	}
	checkDocsLikeEncodingJSON(t, []llmschema.Document{})
	checkDocsLikeEncodingJSON(t, []llmschema.Document{
		{Content: "<b>a & b</b> \u2028 \"q\" \\ \x01 tab\t"},
		{ID: "bad \xff utf8", Content: "", Score: 0.75},
		{ID: "é", Content: "日本語"},
	})
}

func FuzzAppendDocs(f *testing.F) {
	f.Add("id", "content <b>", 0.5, "", "x\xff", 1e-9)
	f.Fuzz(func(t *testing.T, id1, c1 string, s1 float64, id2, c2 string, s2 float64) {
		checkDocsLikeEncodingJSON(t, []llmschema.Document{{ID: id1, Content: c1, Score: s1}, {ID: id2, Content: c2, Score: s2}})
	})
}
