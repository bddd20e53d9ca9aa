package errordetectprocessor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// testCase is one labelled trace of the corpus (testdata/corpus/*.jsonl) or of a
// table-driven test. A case without Spans is a single LLM call built from System, Input,
// Answer and Docs.
type testCase struct {
	ID     string     `json:"id"`
	Expect []string   `json:"expect"`
	Note   string     `json:"note,omitempty"`
	System string     `json:"system,omitempty"`
	Input  []testMsg  `json:"input,omitempty"`
	Answer *string    `json:"answer,omitempty"`
	Docs   []string   `json:"docs,omitempty"`
	Spans  []testSpan `json:"spans,omitempty"`
}

type testSpan struct {
	ID            string         `json:"id"`
	Parent        string         `json:"parent,omitempty"`
	Name          string         `json:"name,omitempty"`
	Kind          string         `json:"kind"`
	Status        string         `json:"status,omitempty"`
	StatusMessage string         `json:"status_message,omitempty"`
	System        string         `json:"system,omitempty"`
	Input         []testMsg      `json:"input,omitempty"`
	Output        []testMsg      `json:"output,omitempty"`
	InputText     string         `json:"input_text,omitempty"`
	OutputText    *string        `json:"output_text,omitempty"`
	FinishReasons []string       `json:"finish_reasons,omitempty"`
	Docs          []string       `json:"docs,omitempty"`
	ToolName      string         `json:"tool_name,omitempty"`
	ToolCallID    string         `json:"tool_call_id,omitempty"`
	ToolArgs      string         `json:"tool_args,omitempty"`
	ToolResult    string         `json:"tool_result,omitempty"`
	Attrs         map[string]any `json:"attrs,omitempty"`
	Events        []testEvent    `json:"events,omitempty"`
	Start         *int           `json:"start,omitempty"`
	End           *int           `json:"end,omitempty"`
}

type testMsg struct {
	Role         string         `json:"role"`
	Text         string         `json:"text,omitempty"`
	ToolCalls    []testToolCall `json:"tool_calls,omitempty"`
	ID           string         `json:"id,omitempty"`
	Response     string         `json:"response,omitempty"`
	FinishReason string         `json:"finish_reason,omitempty"`
}

type testToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments any    `json:"arguments,omitempty"`
}

type testEvent struct {
	Name  string            `json:"name"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

func toMessages(ms []testMsg) []llmschema.Message {
	out := make([]llmschema.Message, 0, len(ms))
	for _, m := range ms {
		msg := llmschema.Message{Role: m.Role, FinishReason: m.FinishReason}
		if m.Role == llmschema.RoleTool {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: m.ID, Response: m.Response})
		} else if m.Text != "" || len(m.ToolCalls) == 0 {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: m.Text})
		}
		for _, c := range m.ToolCalls {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: c.ID, Name: c.Name, Arguments: c.Arguments})
		}
		out = append(out, msg)
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var baseTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// spansOf expands the single-call shorthand.
func (c testCase) spansOf() []testSpan {
	if len(c.Spans) > 0 {
		return c.Spans
	}
	answer := ""
	if c.Answer != nil {
		answer = *c.Answer
	}
	return []testSpan{{
		ID: "llm", Kind: llmschema.SpanKindLLM, Name: "chat gpt-4o-mini", System: c.System, Input: c.Input,
		Output: []testMsg{{Role: llmschema.RoleAssistant, Text: answer, FinishReason: "stop"}},
		Docs:   c.Docs,
	}}
}

// buildTraces turns cases into one ptrace.Traces, one trace per case, trace IDs derived
// from the case index.
func buildTraces(cases ...testCase) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr(llmschema.ServiceName, "corpus")
	ss := rs.ScopeSpans().AppendEmpty()
	for ci, c := range cases {
		appendCase(ss, ci, c)
	}
	return td
}

func traceIDOf(i int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0] = 0x7e
	id[12], id[13], id[14], id[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return id
}

func appendCase(ss ptrace.ScopeSpans, ci int, c testCase) {
	ts := c.spansOf()
	ids := map[string]pcommon.SpanID{}
	for si, s := range ts {
		var id pcommon.SpanID
		id[0], id[6], id[7] = 0x5a, byte(si>>8), byte(si+1)
		ids[s.ID] = id
	}
	for si, s := range ts {
		span := ss.Spans().AppendEmpty()
		span.SetTraceID(traceIDOf(ci))
		span.SetSpanID(ids[s.ID])
		if s.Parent != "" {
			if p, ok := ids[s.Parent]; ok {
				span.SetParentSpanID(p)
			} else {
				span.SetParentSpanID(pcommon.SpanID{0xee, 0xee, 0, 0, 0, 0, 0, 1})
			}
		}
		name := s.Name
		if name == "" {
			name = s.Kind + " " + s.ID
		}
		span.SetName(name)
		start, end := si*100, si*100+80
		if s.Start != nil {
			start = *s.Start
		}
		if s.End != nil {
			end = *s.End
		}
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(baseTime.Add(time.Duration(start) * time.Millisecond)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(baseTime.Add(time.Duration(end) * time.Millisecond)))
		switch s.Status {
		case "error":
			span.Status().SetCode(ptrace.StatusCodeError)
			span.Status().SetMessage(s.StatusMessage)
		case "ok":
			span.Status().SetCode(ptrace.StatusCodeOk)
		}
		a := span.Attributes()
		a.PutStr(llmschema.SpanKind, s.Kind)
		if s.Kind == llmschema.SpanKindLLM {
			a.PutStr(llmschema.OperationName, llmschema.OperationChat)
			a.PutStr(llmschema.RequestModel, "gpt-4o-mini")
			a.PutBool(llmschema.LLMCall, true)
		}
		if s.System != "" {
			a.PutStr(llmschema.SystemInstructions, mustJSON([]llmschema.Part{{Type: llmschema.PartText, Content: s.System}}))
		}
		if len(s.Input) > 0 {
			a.PutStr(llmschema.InputMessages, mustJSON(toMessages(s.Input)))
			for i := len(s.Input) - 1; i >= 0; i-- {
				if s.Input[i].Role == llmschema.RoleUser {
					a.PutStr(llmschema.Input, s.Input[i].Text)
					break
				}
			}
		}
		if s.InputText != "" {
			a.PutStr(llmschema.Input, s.InputText)
		}
		if len(s.Output) > 0 {
			a.PutStr(llmschema.OutputMessages, mustJSON(toMessages(s.Output)))
			var texts []string
			var reasons []string
			for _, m := range s.Output {
				if m.Text != "" {
					texts = append(texts, m.Text)
				}
				if m.FinishReason != "" {
					reasons = append(reasons, m.FinishReason)
				}
			}
			a.PutStr(llmschema.Output, strings.Join(texts, "\n"))
			if len(s.FinishReasons) == 0 && len(reasons) > 0 {
				fr := a.PutEmptySlice(llmschema.FinishReasons)
				for _, r := range reasons {
					fr.AppendEmpty().SetStr(r)
				}
			}
		}
		if len(s.FinishReasons) > 0 {
			fr := a.PutEmptySlice(llmschema.FinishReasons)
			for _, r := range s.FinishReasons {
				fr.AppendEmpty().SetStr(r)
			}
		}
		if s.OutputText != nil {
			a.PutStr(llmschema.Output, *s.OutputText)
		}
		if len(s.Docs) > 0 {
			docs := make([]llmschema.Document, len(s.Docs))
			for i, d := range s.Docs {
				docs[i] = llmschema.Document{ID: fmt.Sprintf("doc-%d", i+1), Content: d}
			}
			a.PutStr(llmschema.RetrievalDocuments, mustJSON(docs))
		}
		if s.ToolName != "" {
			a.PutStr(llmschema.ToolName, s.ToolName)
			a.PutStr(llmschema.OperationName, llmschema.OperationExecuteTool)
		}
		if s.ToolCallID != "" {
			a.PutStr(llmschema.ToolCallID, s.ToolCallID)
		}
		if s.ToolArgs != "" {
			a.PutStr(llmschema.ToolCallArguments, s.ToolArgs)
		}
		if s.ToolResult != "" {
			a.PutStr(llmschema.ToolCallResult, s.ToolResult)
		}
		keys := make([]string, 0, len(s.Attrs))
		for k := range s.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch v := s.Attrs[k].(type) {
			case string:
				a.PutStr(k, v)
			case float64:
				if v == float64(int64(v)) {
					a.PutInt(k, int64(v))
				} else {
					a.PutDouble(k, v)
				}
			case bool:
				a.PutBool(k, v)
			default:
				a.PutStr(k, mustJSON(v))
			}
		}
		for _, e := range s.Events {
			ev := span.Events().AppendEmpty()
			ev.SetName(e.Name)
			for k, v := range e.Attrs {
				ev.Attributes().PutStr(k, v)
			}
		}
	}
}

func loadCorpus(t testing.TB) []testCase {
	t.Helper()
	return loadCases(t, filepath.Join("testdata", "corpus"))
}

func loadCases(t testing.TB, dir string) []testCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files under %s: %v", dir, err)
	}
	sort.Strings(files)
	var cases []testCase
	ids := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		line := 0
		for sc.Scan() {
			line++
			raw := strings.TrimSpace(sc.Text())
			if raw == "" {
				continue
			}
			var c testCase
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s:%d: %v", f, line, err)
			}
			if c.ID == "" || ids[c.ID] {
				t.Fatalf("%s:%d: missing or duplicate id %q", f, line, c.ID)
			}
			ids[c.ID] = true
			cases = append(cases, c)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return cases
}

// flagsOf returns the flags written on each span of a processed trace, keyed by span name.
func flagsOf(t testing.TB, td ptrace.Traces) map[string][]llmschema.Flag {
	t.Helper()
	out := map[string][]llmschema.Flag{}
	forEachFlaggedSpan(t, td, func(s ptrace.Span, fs []llmschema.Flag) {
		out[s.Name()] = append(out[s.Name()], fs...)
	})
	return out
}

// codesByTrace returns the set of flag codes per trace index.
func codesByTrace(t testing.TB, td ptrace.Traces) map[int]map[string]llmschema.Flag {
	t.Helper()
	out := map[int]map[string]llmschema.Flag{}
	forEachFlaggedSpan(t, td, func(s ptrace.Span, fs []llmschema.Flag) {
		idx := traceIndex(s.TraceID())
		if out[idx] == nil {
			out[idx] = map[string]llmschema.Flag{}
		}
		for _, f := range fs {
			if _, dup := out[idx][f.Code]; !dup {
				out[idx][f.Code] = f
			}
		}
	})
	return out
}

// forEachFlaggedSpan calls fn with every span of td that carries flags, and its flags.
func forEachFlaggedSpan(t testing.TB, td ptrace.Traces, fn func(ptrace.Span, []llmschema.Flag)) {
	t.Helper()
	forEachSpan(td, func(s ptrace.Span) {
		v, ok := s.Attributes().Get(llmschema.Flags)
		if !ok {
			return
		}
		var fs []llmschema.Flag
		if err := json.Unmarshal([]byte(v.AsString()), &fs); err != nil {
			t.Fatalf("span %s: tracehound.flags is not a JSON flag list: %v", s.Name(), err)
		}
		fn(s, fs)
	})
}
