package errordetectprocessor

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tracehound/tracehound/internal/llmschema"
)

var decodeCases = []string{
	`[]`, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`, ` [ { "role" : "assistant" , "parts" : [ ] } ] `,
	`[{"role":"assistant","parts":[{"type":"text","content":"a\"b\\c\/d\n\t\r\b\f\u00e9\u4e2d\u003c"}],"finish_reason":"stop","name":"x"}]`,
	`[{"role":"user","parts":[{"type":"tool_call","id":"1","name":"f","arguments":{"a":1}}]}]`,
	`[{"role":"tool","parts":[{"type":"tool_call_response","id":"1","response":"ok"}]}]`,
	`[{"Role":"user"}]`, `[{"role":"user","role":"x"}]`, `[{"role":null}]`, `null`, `[`, `[{}]`, `[{"parts":null}]`,
	`[{"role":"\ud83d\ude00"}]`, `[{"role":"\ud83d"}]`, "[{\"role\":\"\xff\"}]", "[{\"role\":\"a\x01\"}]", `[{"role":"\u00G0"}]`,
	`[{"role":"\u+0ab"}]`, `[{"role":"a"}] x`, `[{"role":"a"},]`, `[{"role":"a",}]`, `[{"parts":[{"type":"text","content":"a","uri":"u","mime_type":"m","modality":"i"}]}]`,
	`[{"id":"d1","content":"doc","score":0.5}]`, `[{"content":"doc","score":-1.5e-3}]`, `[{"content":"doc","score":1e400}]`,
	"abcdefghijklmnop", "abcdefgh\"ijklmnop", "abcdefgh\x7f\x1fijklmnop", "abcdefgh\x1f\x7fijklmnop", "abcdefg\x80", "abcdefghijklmn\\op", "abcdefghijk\x1fmnop", "\x7f\x80\xff\x20\x21abcdefgh\x00",
	`[{"content":"doc","score":01}]`, `[{"content":"doc","score":-}]`, `[{"content":"doc","score":1.}]`, `[{"content":"doc","score":"1"}]`,
}

func TestDecodeFast_AgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decodeCases {
		checkDecode(t, s)
	}
	for _, s := range []string{decodeCases[1], decodeCases[3]} {
		if _, ok := decodeMessagesFast(s); !ok {
			t.Errorf("fast path refused canonical messages %s", s)
		}
	}
	if _, ok := decodeDocumentsFast(`[{"id":"d1","content":"doc","score":0.5}]`); !ok {
		t.Error("fast path refused canonical documents")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range decodeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkDecode(t, s) })
}

func checkDecode(t *testing.T, s string) {
	t.Helper()
	want := 0
	for want < len(s) && s[want] != '"' && s[want] != '\\' && s[want] >= 0x20 {
		want++
	}
	if got := plainRun(s); got != want {
		t.Fatalf("plainRun(%q) = %d, want %d", s, got, want)
	}
	wantPrintable := true
	for i := 0; i < len(s); i++ {
		wantPrintable = wantPrintable && 0x20 <= s[i] && s[i] < 0x80
	}
	if got := printableASCII(s); got != wantPrintable {
		t.Fatalf("printableASCII(%q) = %v, want %v", s, got, wantPrintable)
	}
	if got, ok := decodeMessagesFast(s); ok {
		var want []llmschema.Message
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("decodeMessagesFast(%q) accepted what encoding/json refuses: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeMessagesFast(%q) = %#v, want %#v", s, got, want)
		}
	}
	if got, ok := decodeDocumentsFast(s); ok {
		var want []llmschema.Document
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("decodeDocumentsFast(%q) accepted what encoding/json refuses: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeDocumentsFast(%q) = %#v, want %#v", s, got, want)
		}
	}
}
