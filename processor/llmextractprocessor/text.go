package llmextractprocessor

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

const truncMarkerFmt = "…[truncated %d bytes]"

// clean makes s valid UTF-8 and at most max bytes long, ending a cut string with a
// marker that says how many bytes were dropped.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if max <= 0 || len(s) <= max {
		return s
	}
	return truncate(s, max)
}

func truncate(s string, max int) string {
	// The marker's length depends on the number it carries; reserve room for the worst case.
	reserve := len("…[truncated  bytes]") + len(strconv.Itoa(len(s)))
	keep := max - reserve
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	var b strings.Builder
	b.Grow(keep + reserve)
	b.WriteString(s[:keep])
	b.WriteString("…[truncated ")
	b.WriteString(strconv.Itoa(len(s) - keep))
	b.WriteString(" bytes]")
	return b.String()
}

// looksJSON reports whether s may be a JSON object, array or string (cheap pre-check so
// that plain text never goes through the decoder).
func looksJSON(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return false
	}
	switch s[0] {
	case '{':
		return s[len(s)-1] == '}'
	case '[':
		return s[len(s)-1] == ']'
	case '"':
		return s[len(s)-1] == '"'
	}
	return false
}

// envelopeKeys are object keys whose string value is what a human wants to read when an
// instrumentation wraps a single input or output in an object.
var envelopeKeys = []string{
	"input", "query", "question", "prompt", "text", "content", "message", "user_input",
	"output", "answer", "result", "response", "completion", "final_output", "value",
	"command", "code",
}

// displayText turns an attribute value that may be a JSON envelope into readable text:
// a JSON string becomes its content, {"args":[x],"kwargs":{}} becomes x, an object with a
// well-known text field ("input", "query", "answer", ...) becomes that field, a chat
// message becomes its text, a message list its last user message, a list of strings
// their lines. Anything else is returned unchanged (compact JSON stays
// JSON, so {"city":"Oslo"} keeps its key). Empty envelopes such as
// {"args":[],"kwargs":{}} yield "".
func displayText(s string) string {
	if !looksJSON(s) {
		return s
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	if t, ok := unwrapValue(v, 0); ok {
		return t
	}
	return s
}

func unwrapValue(v any, depth int) (string, bool) {
	if depth > 4 {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", true
	case []any:
		if len(x) == 0 {
			return "", true
		}
		if msgs, ok := messagesFromAny(x); ok && len(msgs) > 0 {
			if t := lastUserText(msgs); t != "" {
				return t, true
			}
			if t := assistantText(msgs); t != "" {
				return t, true
			}
		}
		if len(x) == 1 {
			return unwrapValue(x[0], depth+1)
		}
		strs := make([]string, 0, len(x))
		for _, el := range x {
			s, ok := el.(string)
			if !ok {
				return "", false
			}
			strs = append(strs, s)
		}
		return strings.Join(strs, "\n"), true
	case map[string]any:
		if len(x) == 0 {
			return "", true
		}
		// Traceloop JS/Python: {"args": [...], "kwargs": {...}}.
		if args, ok := x["args"]; ok {
			if kw, ok := x["kwargs"]; ok || len(x) == 1 {
				a, _ := args.([]any)
				k, _ := kw.(map[string]any)
				switch {
				case len(a) == 0 && len(k) == 0:
					return "", true
				case len(a) == 1 && len(k) == 0:
					return unwrapValue(a[0], depth+1)
				case len(a) == 0:
					return unwrapValue(k, depth+1)
				}
				return "", false
			}
		}
		if role, ok := x["role"].(string); ok {
			if _, has := x["content"]; has {
				if t := joinText(convertMessage(role, x).Parts); t != "" {
					return t, true
				}
			}
		}
		for _, key := range []string{"inputs", "outputs"} {
			if inner, ok := x[key]; ok && len(x) <= 3 {
				return unwrapValue(inner, depth+1)
			}
		}
		// Provider responses: OpenAI chat {"choices":[{"message":...}]}, OpenAI Responses
		// {"output":[{"type":"message","content":[{"type":"output_text",...}]}]}.
		if msgs := messagesFromValue(x, 0); len(msgs) > 0 && x["choices"] != nil {
			if t := assistantText(msgs); t != "" {
				return t, true
			}
		}
		if items, ok := x["output"].([]any); ok {
			var texts []string
			for _, it := range items {
				if m, ok := it.(map[string]any); ok && m["type"] == "message" {
					role, _ := m["role"].(string)
					if t := joinText(convertMessage(role, m).Parts); t != "" {
						texts = append(texts, t)
					}
				}
			}
			if len(texts) > 0 {
				return strings.Join(texts, "\n"), true
			}
		}
		if msgs, ok := x["messages"].([]any); ok {
			if t, ok := unwrapValue(msgs, depth+1); ok && t != "" {
				return t, true
			}
		}
		for _, key := range envelopeKeys {
			if s, ok := x[key].(string); ok && s != "" {
				return s, true
			}
		}
	}
	return "", false
}

// toolCallText renders a tool call the way a reader scans it: → name({"a":1}).
func toolCallText(name string, args any) string {
	var b strings.Builder
	b.WriteString("→ ")
	b.WriteString(name)
	b.WriteByte('(')
	switch a := args.(type) {
	case nil:
	case string:
		b.WriteString(a)
	case json.RawMessage:
		b.Write(a)
	default:
		if raw, err := json.Marshal(a); err == nil {
			b.Write(raw)
		}
	}
	b.WriteByte(')')
	return b.String()
}
