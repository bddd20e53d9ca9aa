package llmextractprocessor

import (
	"encoding/json"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// messagesFromAny converts a decoded JSON list of chat messages in any of the common
// shapes (semantic-convention parts, OpenAI chat, Anthropic content blocks, Vercel AI
// prompt messages) into the canonical form. ok is false when an element is not a message.
func messagesFromAny(list []any) ([]llmschema.Message, bool) {
	out := make([]llmschema.Message, 0, len(list))
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, false
		}
		role, ok := m["role"].(string)
		if !ok {
			return nil, false
		}
		out = append(out, convertMessage(role, m))
	}
	return out, true
}

func convertMessage(role string, m map[string]any) llmschema.Message {
	msg := llmschema.Message{Role: role}
	msg.Name, _ = m["name"].(string)
	msg.FinishReason, _ = m["finish_reason"].(string)
	if parts, ok := m["parts"].([]any); ok {
		for _, p := range parts {
			if pm, ok := p.(map[string]any); ok {
				msg.Parts = append(msg.Parts, semconvPart(pm))
			}
		}
		return msg
	}
	toolCallID, _ := m["tool_call_id"].(string)
	switch c := m["content"].(type) {
	case string:
		if role == llmschema.RoleTool && toolCallID != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: toolCallID, Response: c})
		} else if c != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: c})
		}
	case []any:
		for _, p := range c {
			switch pm := p.(type) {
			case map[string]any:
				if part, ok := contentPart(pm); ok {
					msg.Parts = append(msg.Parts, part)
				}
			case string:
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: pm})
			}
		}
		if role == llmschema.RoleTool && toolCallID != "" && len(msg.Parts) > 0 && msg.Parts[0].Type == llmschema.PartText {
			msg.Parts = []llmschema.Part{{Type: llmschema.PartToolCallResponse, ID: toolCallID, Response: joinText(msg.Parts)}}
		}
	case map[string]any:
		if part, ok := contentPart(c); ok {
			msg.Parts = append(msg.Parts, part)
		}
	}
	if calls, ok := m["tool_calls"].([]any); ok {
		for _, c := range calls {
			if cm, ok := c.(map[string]any); ok {
				msg.Parts = append(msg.Parts, openAIToolCall(cm))
			}
		}
	}
	if fc, ok := m["function_call"].(map[string]any); ok {
		name, _ := fc["name"].(string)
		msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, Name: name, Arguments: jsonArg(fc["arguments"])})
	}
	if msg.Parts == nil {
		msg.Parts = []llmschema.Part{}
	}
	return msg
}

func semconvPart(pm map[string]any) llmschema.Part {
	p := llmschema.Part{}
	p.Type, _ = pm["type"].(string)
	p.ID, _ = pm["id"].(string)
	p.Name, _ = pm["name"].(string)
	p.MIMEType, _ = pm["mime_type"].(string)
	p.Modality, _ = pm["modality"].(string)
	p.URI, _ = pm["uri"].(string)
	p.Content = pm["content"]
	p.Arguments = pm["arguments"]
	p.Response = pm["response"]
	if p.Content == nil && p.Type == llmschema.PartText {
		p.Content = pm["text"]
	}
	return p
}

func openAIToolCall(cm map[string]any) llmschema.Part {
	p := llmschema.Part{Type: llmschema.PartToolCall}
	p.ID, _ = cm["id"].(string)
	if fn, ok := cm["function"].(map[string]any); ok {
		p.Name, _ = fn["name"].(string)
		p.Arguments = jsonArg(fn["arguments"])
		return p
	}
	// Vercel AI v4/v5 ai.response.toolCalls and similar flat shapes.
	if p.ID == "" {
		p.ID, _ = cm["toolCallId"].(string)
	}
	p.Name, _ = cm["name"].(string)
	if p.Name == "" {
		p.Name, _ = cm["toolName"].(string)
	}
	for _, k := range []string{"arguments", "args", "input"} {
		if v, ok := cm[k]; ok {
			p.Arguments = jsonArg(v)
			break
		}
	}
	return p
}

// jsonArg keeps tool arguments as structured JSON when a string holds a JSON object.
func jsonArg(v any) any {
	if s, ok := v.(string); ok {
		t := strings.TrimSpace(s)
		if len(t) > 1 && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
			return json.RawMessage(t)
		}
	}
	return v
}

func contentPart(pm map[string]any) (llmschema.Part, bool) {
	typ, _ := pm["type"].(string)
	switch typ {
	case "text", "input_text", "output_text":
		return llmschema.Part{Type: llmschema.PartText, Content: pm["text"]}, true
	case "image_url":
		url := ""
		switch iu := pm["image_url"].(type) {
		case string:
			url = iu
		case map[string]any:
			url, _ = iu["url"].(string)
		}
		return mediaPart("image", url, ""), true
	case "image", "file", "input_image", "input_file":
		modality := "image"
		mime, _ := pm["mediaType"].(string)
		if mime == "" {
			mime, _ = pm["mimeType"].(string)
		}
		if typ == "file" || typ == "input_file" {
			modality = modalityOf(mime)
		}
		if src, ok := pm["source"].(map[string]any); ok { // Anthropic
			if u, ok := src["url"].(string); ok {
				return mediaPart(modality, u, mime), true
			}
			data, _ := src["data"].(string)
			if mt, ok := src["media_type"].(string); ok {
				mime = mt
			}
			return llmschema.Part{Type: llmschema.PartBlob, Modality: modality, MIMEType: mime, Content: data}, true
		}
		for _, k := range []string{"image", "data", "url", "image_url", "file_data"} {
			if s, ok := pm[k].(string); ok {
				return mediaPart(modality, s, mime), true
			}
		}
		return llmschema.Part{Type: typ}, true
	case "input_audio":
		if a, ok := pm["input_audio"].(map[string]any); ok {
			data, _ := a["data"].(string)
			format, _ := a["format"].(string)
			return llmschema.Part{Type: llmschema.PartBlob, Modality: "audio", MIMEType: "audio/" + format, Content: data}, true
		}
	case "tool-call", "tool_use", "tool_call", "function_call":
		p := llmschema.Part{Type: llmschema.PartToolCall}
		for _, k := range []string{"toolCallId", "id", "call_id"} {
			if s, ok := pm[k].(string); ok && s != "" {
				p.ID = s
				break
			}
		}
		for _, k := range []string{"toolName", "name"} {
			if s, ok := pm[k].(string); ok && s != "" {
				p.Name = s
				break
			}
		}
		for _, k := range []string{"input", "args", "arguments"} {
			if v, ok := pm[k]; ok {
				p.Arguments = jsonArg(v)
				break
			}
		}
		return p, true
	case "tool-result", "tool_result", "tool_call_response", "function_call_output":
		p := llmschema.Part{Type: llmschema.PartToolCallResponse}
		for _, k := range []string{"toolCallId", "tool_use_id", "id", "call_id"} {
			if s, ok := pm[k].(string); ok && s != "" {
				p.ID = s
				break
			}
		}
		p.Name, _ = pm["toolName"].(string)
		for _, k := range []string{"output", "result", "content", "response"} {
			if v, ok := pm[k]; ok {
				p.Response = toolResultValue(v)
				break
			}
		}
		return p, true
	case "reasoning", "thinking", "redacted_thinking":
		c := pm["text"]
		if c == nil {
			c = pm["thinking"]
		}
		return llmschema.Part{Type: llmschema.PartReasoning, Content: c}, true
	case "":
		if t, ok := pm["text"].(string); ok {
			return llmschema.Part{Type: llmschema.PartText, Content: t}, true
		}
		return llmschema.Part{}, false
	}
	p := llmschema.Part{Type: typ, Content: pm["text"]}
	if p.Content == nil {
		p.Content = pm["content"]
	}
	return p, true
}

// toolResultValue unwraps Vercel AI v5 {type:"json"|"text", value} and Anthropic
// text-block lists to the value itself.
func toolResultValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if val, ok := x["value"]; ok && len(x) <= 2 {
			return val
		}
	case []any:
		var parts []string
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					parts = append(parts, t)
					continue
				}
			}
			return v
		}
		return strings.Join(parts, "\n")
	}
	return v
}

func mediaPart(modality, s, mime string) llmschema.Part {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "gs://") || strings.HasPrefix(s, "s3://") {
		return llmschema.Part{Type: llmschema.PartURI, Modality: modality, URI: s, MIMEType: mime}
	}
	if strings.HasPrefix(s, "data:") {
		if semi := strings.IndexByte(s, ';'); semi > 5 && mime == "" {
			mime = s[5:semi]
		}
		if comma := strings.IndexByte(s, ','); comma > 0 {
			s = s[comma+1:]
		}
	}
	return llmschema.Part{Type: llmschema.PartBlob, Modality: modality, MIMEType: mime, Content: s}
}

func modalityOf(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return "image"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	}
	return "file"
}

func joinText(parts []llmschema.Part) string {
	first, count := "", 0
	for _, p := range parts {
		if s, ok := p.Content.(string); ok && s != "" && p.Type == llmschema.PartText {
			if count == 0 {
				first = s
			}
			count++
		}
	}
	if count <= 1 {
		return first
	}
	var b strings.Builder
	for _, p := range parts {
		if s, ok := p.Content.(string); ok && s != "" && p.Type == llmschema.PartText {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// lastUserText is the text of the last user message: what the user asked this call.
func lastUserText(msgs []llmschema.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llmschema.RoleUser || msgs[i].Role == "human" {
			if t := joinText(msgs[i].Parts); t != "" {
				return t
			}
		}
	}
	return ""
}

// assistantText is the text of the first assistant (or model) message; without text, its
// tool calls rendered briefly.
func assistantText(msgs []llmschema.Message) string {
	for _, m := range msgs {
		if m.Role != llmschema.RoleAssistant && m.Role != "model" && m.Role != "ai" {
			continue
		}
		if t := joinText(m.Parts); t != "" {
			return t
		}
		var b strings.Builder
		for _, p := range m.Parts {
			if p.Type == llmschema.PartToolCall {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(toolCallText(p.Name, p.Arguments))
			}
		}
		if b.Len() > 0 {
			return b.String()
		}
	}
	return ""
}

// fitMessages marshals msgs into at most max bytes of valid JSON: long string contents are
// cut first (with the truncation marker), then the oldest messages are dropped.
func fitMessages(msgs []llmschema.Message, max int) (string, bool) {
	raw, err := appendMessages(make([]byte, 0, 256), msgs)
	if err != nil {
		return "", false
	}
	if max <= 0 || len(raw) <= max {
		return string(raw), true
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Parts)
	}
	budget := max / (2 * max1(n))
	cut := make([]llmschema.Message, len(msgs))
	for i, m := range msgs {
		cut[i] = m
		cut[i].Parts = make([]llmschema.Part, len(m.Parts))
		for j, p := range m.Parts {
			p.Content = cutAny(p.Content, budget)
			p.Response = cutAny(p.Response, budget)
			p.Arguments = cutAny(p.Arguments, budget)
			cut[i].Parts[j] = p
		}
	}
	for len(cut) > 0 {
		raw, err = appendMessages(raw[:0], cut)
		if err != nil {
			return "", false
		}
		if len(raw) <= max {
			return string(raw), true
		}
		cut = cut[1:]
	}
	return "[]", true
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func cutAny(v any, budget int) any {
	switch x := v.(type) {
	case string:
		if len(x) > budget {
			return truncate(x, budget)
		}
	case json.RawMessage:
		if len(x) > budget {
			return truncate(string(x), budget)
		}
	case nil:
	default:
		if raw, err := json.Marshal(x); err == nil && len(raw) > budget {
			return truncate(string(raw), budget)
		}
	}
	return v
}
