package llmextractprocessor

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Spans in the current semantic convention already carry canonical message JSON, and all
// llmextract needs from it is two strings: the last user text and the first assistant
// text. Decoding it with encoding/json into maps cost most of the per-span time and
// allocations, so this small reader walks the JSON in place and slices the original
// string wherever no unescaping is needed.

type jsonReader struct {
	s string
	i int
}

func (r *jsonReader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) consume(c byte) bool {
	r.ws()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *jsonReader) peek() byte {
	r.ws()
	if r.i < len(r.s) {
		return r.s[r.i]
	}
	return 0
}

// str reads a JSON string; it allocates only when the string holds escapes or invalid
// UTF-8 (which encoding/json replaces with U+FFFD, as this does).
func (r *jsonReader) str() (string, bool) {
	r.ws()
	if r.i >= len(r.s) || r.s[r.i] != '"' {
		return "", false
	}
	start := r.i
	escaped := false
	// Jump from quote to quote (IndexByte is vectorised); a backslash before the next quote
	// escapes the byte after it, and the search goes on after that.
	for j := r.i + 1; j <= len(r.s); {
		q := strings.IndexByte(r.s[j:], '"')
		if q < 0 {
			return "", false
		}
		if b := strings.IndexByte(r.s[j:j+q], '\\'); b >= 0 {
			escaped = true
			j += b + 2
			continue
		}
		end := j + q
		r.i = end + 1
		if raw := r.s[start+1 : end]; !escaped && utf8.ValidString(raw) {
			return raw, true
		}
		var out string
		if json.Unmarshal([]byte(r.s[start:end+1]), &out) != nil {
			return "", false
		}
		return out, true
	}
	return "", false
}

// skip moves past one JSON value and returns its raw text.
func (r *jsonReader) skip() (string, bool) {
	r.ws()
	start := r.i
	if r.i >= len(r.s) {
		return "", false
	}
	switch r.s[r.i] {
	case '"':
		if _, ok := r.str(); !ok {
			return "", false
		}
	case '{', '[':
		depth := 0
		for r.i < len(r.s) {
			switch r.s[r.i] {
			case '"':
				if _, ok := r.str(); !ok {
					return "", false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					r.i++
					return r.s[start:r.i], true
				}
			}
			r.i++
		}
		return "", false
	default:
		for r.i < len(r.s) {
			c := r.s[r.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				break
			}
			r.i++
		}
		if r.i == start {
			return "", false
		}
	}
	return r.s[start:r.i], true
}

type partRef struct {
	typ, content, name, args string
}

// scanMessages reads a semantic-convention message list and returns the text of the last
// user message and of the first assistant message (its tool calls rendered when it has no
// text). With allUsers, user is instead every user message's text, one per line (the whole
// prompt of a completion call). ok is false when s is not such a list.
func scanMessages(s string, allUsers bool) (user, assistant string, n int, ok bool) {
	r := jsonReader{s: s}
	if !r.consume('[') {
		return "", "", 0, false
	}
	if r.consume(']') {
		return "", "", 0, true
	}
	var buf [8]partRef
	for {
		if !r.consume('{') {
			return "", "", 0, false
		}
		role := ""
		parts := buf[:0]
		if !r.consume('}') {
			for {
				key, ok := r.str()
				if !ok || !r.consume(':') {
					return "", "", 0, false
				}
				switch {
				case key == "role" && r.peek() == '"':
					if role, ok = r.str(); !ok {
						return "", "", 0, false
					}
				case key == "parts" && r.peek() == '[':
					if parts, ok = scanParts(&r, parts); !ok {
						return "", "", 0, false
					}
				default:
					if _, ok := r.skip(); !ok {
						return "", "", 0, false
					}
				}
				if r.consume(',') {
					continue
				}
				if !r.consume('}') {
					return "", "", 0, false
				}
				break
			}
		}
		n++
		switch role {
		case "user", "human":
			if t := joinRefs(parts); t != "" {
				if allUsers && user != "" {
					user += "\n" + t
				} else {
					user = t
				}
			}
		case "assistant", "model", "ai":
			if assistant == "" {
				assistant = joinRefs(parts)
				if assistant == "" {
					assistant = renderCalls(parts)
				}
			}
		}
		if r.consume(',') {
			continue
		}
		if !r.consume(']') {
			return "", "", 0, false
		}
		return user, assistant, n, true
	}
}

func scanParts(r *jsonReader, parts []partRef) ([]partRef, bool) {
	if !r.consume('[') {
		return parts, false
	}
	if r.consume(']') {
		return parts, true
	}
	for {
		if !r.consume('{') {
			return parts, false
		}
		var p partRef
		if !r.consume('}') {
			for {
				key, ok := r.str()
				if !ok || !r.consume(':') {
					return parts, false
				}
				var v string
				if r.peek() == '"' && key != "arguments" {
					v, ok = r.str()
				} else {
					v, ok = r.skip()
				}
				if !ok {
					return parts, false
				}
				switch key {
				case "type":
					p.typ = v
				case "content":
					p.content = v
				case "name":
					p.name = v
				case "arguments":
					p.args = v
				}
				if r.consume(',') {
					continue
				}
				if !r.consume('}') {
					return parts, false
				}
				break
			}
		}
		parts = append(parts, p)
		if r.consume(',') {
			continue
		}
		return parts, r.consume(']')
	}
}

func joinRefs(parts []partRef) string {
	first, count := "", 0
	for _, p := range parts {
		if p.typ == "text" && p.content != "" {
			if count == 0 {
				first = p.content
			}
			count++
		}
	}
	if count <= 1 {
		return first
	}
	var b strings.Builder
	for _, p := range parts {
		if p.typ == "text" && p.content != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.content)
		}
	}
	return b.String()
}

func renderCalls(parts []partRef) string {
	var b strings.Builder
	for _, p := range parts {
		if p.typ == "tool_call" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(toolCallText(p.name, compactJSON(p.args)))
		}
	}
	return b.String()
}

// compactJSON drops insignificant whitespace so that rendered arguments read uniformly.
func compactJSON(s string) string {
	if s == "" || !strings.ContainsAny(s, " \n\t\r") {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

// fastMessages decodes the most common message-list shape — role plus content that is a
// string or a list of text parts — straight from the JSON text, without building maps.
// ok is false for anything else (tool calls, media, unknown keys); the caller then uses
// the general converter, which fuzzing checks agrees with this one where both apply.
func fastMessages(s string) ([]llmschema.Message, bool) {
	r := jsonReader{s: s}
	if !r.consume('[') {
		return nil, false
	}
	msgs := make([]llmschema.Message, 0, 4)
	if r.consume(']') {
		return msgs, r.end()
	}
	for {
		if !r.consume('{') {
			return nil, false
		}
		var m llmschema.Message
		hasRole, hasContent := false, false
		if !r.consume('}') {
			for {
				key, ok := r.str()
				if !ok || !r.consume(':') {
					return nil, false
				}
				switch key {
				case "role":
					if m.Role, ok = r.str(); !ok {
						return nil, false
					}
					hasRole = true
				case "content":
					if m.Parts, ok = fastContent(&r); !ok {
						return nil, false
					}
					hasContent = true
				case "providerOptions", "experimental_providerMetadata", "providerMetadata":
					if _, ok := r.skip(); !ok {
						return nil, false
					}
				default:
					return nil, false
				}
				if r.consume(',') {
					continue
				}
				if !r.consume('}') {
					return nil, false
				}
				break
			}
		}
		if !hasRole || m.Role == llmschema.RoleTool {
			return nil, false
		}
		if !hasContent || m.Parts == nil {
			m.Parts = []llmschema.Part{}
		}
		msgs = append(msgs, m)
		if r.consume(',') {
			continue
		}
		if !r.consume(']') {
			return nil, false
		}
		return msgs, r.end()
	}
}

// end reports whether only whitespace is left.
func (r *jsonReader) end() bool {
	r.ws()
	return r.i == len(r.s)
}

func fastContent(r *jsonReader) ([]llmschema.Part, bool) {
	switch r.peek() {
	case '"':
		text, ok := r.str()
		if !ok {
			return nil, false
		}
		if text == "" {
			return []llmschema.Part{}, true
		}
		return []llmschema.Part{{Type: llmschema.PartText, Content: text}}, true
	case '[':
	default:
		return nil, false
	}
	r.consume('[')
	parts := make([]llmschema.Part, 0, 1)
	if r.consume(']') {
		return parts, true
	}
	for {
		if !r.consume('{') {
			return nil, false
		}
		typ, text, hasText := "", "", false
		if !r.consume('}') {
			for {
				key, ok := r.str()
				if !ok || !r.consume(':') {
					return nil, false
				}
				switch key {
				case "type":
					if typ, ok = r.str(); !ok {
						return nil, false
					}
				case "text":
					if text, ok = r.str(); !ok {
						return nil, false
					}
					hasText = true
				case "providerOptions", "providerMetadata", "cache_control":
					if _, ok := r.skip(); !ok {
						return nil, false
					}
				default:
					return nil, false
				}
				if r.consume(',') {
					continue
				}
				if !r.consume('}') {
					return nil, false
				}
				break
			}
		}
		if (typ != "text" && typ != "input_text" && typ != "output_text") || !hasText {
			return nil, false
		}
		parts = append(parts, llmschema.Part{Type: llmschema.PartText, Content: text})
		if r.consume(',') {
			continue
		}
		return parts, r.consume(']')
	}
}
