package judge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// Data is what a metric's prompt template sees of one record. Every text is bounded by
// max_field_chars. The *Text fields are ready-to-print renderings of the lists.
type Data struct {
	TraceID  string
	Name     string
	Service  string
	Status   string
	Models   []string
	Input    string
	Output   string
	Expected string
	// Conversation is the messages of the LLM call that saw the most history, then its answer.
	Conversation     []Message
	ConversationText string
	// Documents are the retrieved documents (tracehound.retrieval.documents) of the trace.
	Documents     []llmschema.Document
	DocumentsText string
	// ToolCalls are the tool spans of the trace, or the tool calls in the conversation.
	ToolCalls     []ToolCall
	ToolCallsText string
	Metadata      map[string]string
	MetadataText  string
}

// Message is one conversation message as plain text.
type Message struct {
	Role    string
	Content string
}

// ToolCall is one tool invocation.
type ToolCall struct {
	Name      string
	Arguments string
	Result    string
}

// placeholders maps the {{input}}-style names to Data fields.
var placeholders = map[string]string{
	"input":        ".Input",
	"output":       ".Output",
	"expected":     ".Expected",
	"conversation": ".ConversationText",
	"documents":    ".DocumentsText",
	"context":      ".DocumentsText",
	"tool_calls":   ".ToolCallsText",
	"metadata":     ".MetadataText",
	"name":         ".Name",
	"service":      ".Service",
	"trace_id":     ".TraceID",
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

var templateFuncs = template.FuncMap{
	// json renders a value as JSON, e.g. {{json .Metadata}}.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	// truncate cuts a text to n characters.
	"truncate": func(n int, s string) string { return truncate(s, n) },
}

// parseTemplate reads a prompt: {{input}}-style placeholders are rewritten to the Data
// fields, then the text is parsed as a Go text/template.
func parseTemplate(name, prompt string) (*template.Template, error) {
	src := placeholderRE.ReplaceAllStringFunc(prompt, func(m string) string {
		key := placeholderRE.FindStringSubmatch(m)[1]
		if f, ok := placeholders[key]; ok {
			return "{{" + f + "}}"
		}
		return m
	})
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("not a valid template: %w (use {{.Input}}, {{.Output}}, {{.Expected}}, {{.ConversationText}}, {{.DocumentsText}}, {{.ToolCallsText}}, {{.MetadataText}} or {{input}}-style placeholders)", err)
	}
	// Render against empty data so that unknown fields fail at definition time, not per record.
	if err := t.Execute(&limitedBuffer{max: 1 << 20}, &Data{Metadata: map[string]string{}}); err != nil {
		return nil, fmt.Errorf("template fails on an empty record: %w", err)
	}
	return t, nil
}

// maxPromptBytes bounds a rendered prompt.
const maxPromptBytes = 1 << 20

var errPromptTooLarge = errors.New("rendered prompt exceeds 1 MiB")

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errPromptTooLarge
	}
	return b.Buffer.Write(p)
}

// render executes a parsed prompt for one record.
func render(t *template.Template, d *Data) (string, error) {
	buf := &limitedBuffer{max: maxPromptBytes}
	if err := t.Execute(buf, d); err != nil {
		return "", fmt.Errorf("render prompt: %w", err)
	}
	return buf.String(), nil
}

// buildData collects what templates see of a record from the record and its spans.
func buildData(rec *store.Record, spans []store.Span, maxChars int) (*Data, error) {
	d := &Data{
		TraceID:  rec.TraceID,
		Name:     rec.Name,
		Service:  rec.Service,
		Status:   rec.Status,
		Models:   rec.Models,
		Input:    truncate(rec.Input, maxChars),
		Output:   truncate(rec.Output, maxChars),
		Expected: truncate(string(rec.Expected), maxChars),
		Metadata: rec.Metadata,
	}
	if d.Metadata == nil {
		d.Metadata = map[string]string{}
	}
	var bestIn, bestOut []llmschema.Message
	found := false
	for i := range spans {
		sp := &spans[i]
		_, td, err := store.DecodeSpan(sp.Project, sp.Raw)
		if err != nil {
			return nil, fmt.Errorf("span %s: %w", sp.SpanIDHex(), err)
		}
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		if sp.LLMCall || sp.InputMessages != "" {
			in := decodeMessages(sp.InputMessages)
			if !found || len(in) >= len(bestIn) {
				found, bestIn, bestOut = true, in, decodeMessages(sp.OutputMessages)
			}
		}
		if v, ok := attrs.Get(llmschema.RetrievalDocuments); ok {
			var docs []llmschema.Document
			if json.Unmarshal([]byte(v.AsString()), &docs) == nil {
				d.Documents = append(d.Documents, docs...)
			}
		}
		if sp.Kind == llmschema.SpanKindTool {
			d.ToolCalls = append(d.ToolCalls, toolCallOf(sp, attrs))
		}
	}
	for _, m := range append(bestIn, bestOut...) {
		d.Conversation = append(d.Conversation, Message{Role: m.Role, Content: messageText(m)})
	}
	if len(d.ToolCalls) == 0 {
		for _, m := range bestOut {
			for _, p := range m.Parts {
				if p.Type == "tool_call" {
					d.ToolCalls = append(d.ToolCalls, ToolCall{Name: p.Name, Arguments: anyText(p.Arguments)})
				}
			}
		}
	}
	d.ConversationText = truncate(conversationText(d.Conversation), maxChars)
	d.DocumentsText = truncate(documentsText(d.Documents), maxChars)
	d.ToolCallsText = truncate(toolCallsText(d.ToolCalls), maxChars)
	d.MetadataText = truncate(metadataText(d.Metadata), maxChars)
	return d, nil
}

func toolCallOf(sp *store.Span, attrs pcommon.Map) ToolCall {
	tc := ToolCall{Name: sp.Name, Arguments: sp.Input, Result: sp.Output}
	if v, ok := attrs.Get(llmschema.ToolName); ok && v.AsString() != "" {
		tc.Name = v.AsString()
	}
	if v, ok := attrs.Get(llmschema.ToolCallArguments); ok {
		tc.Arguments = v.AsString()
	}
	if v, ok := attrs.Get(llmschema.ToolCallResult); ok {
		tc.Result = v.AsString()
	}
	return tc
}

func decodeMessages(s string) []llmschema.Message {
	if s == "" {
		return nil
	}
	var msgs []llmschema.Message
	if json.Unmarshal([]byte(s), &msgs) != nil {
		return nil
	}
	return msgs
}

// messageText flattens a message's parts: text as is, tool calls and their results marked.
func messageText(m llmschema.Message) string {
	var parts []string
	for _, p := range m.Parts {
		switch p.Type {
		case "text", "reasoning", "":
			if s := anyText(p.Content); s != "" {
				parts = append(parts, s)
			}
		case "tool_call":
			parts = append(parts, fmt.Sprintf("[tool call %s(%s)]", p.Name, anyText(p.Arguments)))
		case "tool_call_response":
			parts = append(parts, fmt.Sprintf("[tool result %s]", anyText(p.Response)))
		default:
			parts = append(parts, "["+p.Type+"]")
		}
	}
	return strings.Join(parts, "\n")
}

func anyText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func conversationText(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "[%s]: %s\n", m.Role, m.Content)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func documentsText(docs []llmschema.Document) string {
	var b strings.Builder
	for i, doc := range docs {
		id := doc.ID
		if id == "" {
			id = fmt.Sprint(i + 1)
		}
		fmt.Fprintf(&b, "[document %s]\n%s\n\n", id, doc.Content)
	}
	return strings.TrimSpace(b.String())
}

func toolCallsText(calls []ToolCall) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s(%s)", c.Name, c.Arguments)
		if c.Result != "" {
			fmt.Fprintf(&b, " -> %s", c.Result)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func metadataText(md map[string]string) string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, md[k])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// truncate cuts s to at most n characters (runes), marking the cut.
func truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + " …[truncated]"
		}
		i++
	}
	return s
}
