// Conversion of each family's message form into llmschema.Message.

package llmextractprocessor

import (
	"encoding/json"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

func (e *extractor) inputMessages(f *facts) (msgs []llmschema.Message, system string) {
	switch {
	case len(f.oiIn) > 0:
		return oiMessages(f.oiIn), ""
	case len(f.legacyIn) > 0:
		return legacyMessages(f.legacyIn), ""
	case len(f.eventIn) > 0:
		return f.eventIn, ""
	case len(f.oiPrompts) > 0:
		for _, p := range f.oiPrompts {
			msgs = append(msgs, textMessage(llmschema.RoleUser, p))
		}
		return msgs, ""
	case f.aiPromptMsgs != "":
		return jsonMessages(f.aiPromptMsgs), ""
	case f.aiPrompt != "":
		return vercelPrompt(f.aiPrompt)
	case f.claudeCtx != "":
		if m := jsonMessages(f.claudeCtx); m != nil {
			return m, f.claudeSystem
		}
		return claudeContextMessages(f.claudeCtx), f.claudeSystem
	case f.adkRequest != "":
		return geminiRequest(f.adkRequest)
	case f.jsonPrompt != "":
		return genericMessages(f.jsonPrompt), ""
	case f.inText.rank == rankLangfuse && f.lfKind == "generation":
		return genericMessages(f.inText.s), ""
	}
	return nil, f.claudeSystem
}

func (e *extractor) outputMessages(f *facts) []llmschema.Message {
	switch {
	case len(f.oiOut) > 0:
		return oiMessages(f.oiOut)
	case len(f.legacyOut) > 0:
		return legacyMessages(f.legacyOut)
	case len(f.eventOut) > 0:
		return f.eventOut
	case len(f.oiChoices) > 0:
		var msgs []llmschema.Message
		for _, c := range f.oiChoices {
			msgs = append(msgs, textMessage(llmschema.RoleAssistant, c))
		}
		return msgs
	case f.aiText != "" || f.aiToolCalls != "" || f.aiObject != "":
		m := llmschema.Message{Role: llmschema.RoleAssistant, FinishReason: f.finish.s, Parts: []llmschema.Part{}}
		if f.aiText != "" {
			m.Parts = append(m.Parts, llmschema.Part{Type: llmschema.PartText, Content: f.aiText})
		} else if f.aiObject != "" {
			m.Parts = append(m.Parts, llmschema.Part{Type: llmschema.PartText, Content: f.aiObject})
		}
		if looksJSON(f.aiToolCalls) {
			var calls []map[string]any
			if json.Unmarshal([]byte(f.aiToolCalls), &calls) == nil {
				for _, c := range calls {
					m.Parts = append(m.Parts, openAIToolCall(c))
				}
			}
		}
		return []llmschema.Message{m}
	case f.claudeOut != "":
		if m := jsonMessages(f.claudeOut); m != nil {
			return m
		}
		m := textMessage(llmschema.RoleAssistant, f.claudeOut)
		m.FinishReason = f.finish.s
		return []llmschema.Message{m}
	case f.adkResponse != "":
		return geminiResponse(f.adkResponse)
	case f.jsonCompletion != "":
		return genericMessages(f.jsonCompletion)
	case f.outText.rank == rankLangfuse && f.lfKind == "generation":
		return genericMessages(f.outText.s)
	}
	return nil
}

func textMessage(role, text string) llmschema.Message {
	return llmschema.Message{Role: role, Parts: []llmschema.Part{{Type: llmschema.PartText, Content: text}}}
}

func jsonMessages(s string) []llmschema.Message {
	if !looksJSON(s) {
		return nil
	}
	if msgs, ok := fastMessages(s); ok {
		return msgs
	}
	var list []any
	if json.Unmarshal([]byte(s), &list) != nil {
		return nil
	}
	msgs, ok := messagesFromAny(list)
	if !ok {
		return nil
	}
	return msgs
}

// genericMessages reads the message shapes that framework exporters put in one JSON
// attribute: a message list, {"messages": [...]} (LangChain nests one list per prompt),
// an OpenAI response {"choices": [{"message": {...}}]}, or a single message object.
func genericMessages(s string) []llmschema.Message {
	if !looksJSON(s) {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return messagesFromValue(v, 0)
}

func messagesFromValue(v any, depth int) []llmschema.Message {
	if depth > 3 {
		return nil
	}
	switch x := v.(type) {
	case []any:
		if msgs, ok := messagesFromAny(x); ok {
			return msgs
		}
		if len(x) == 1 {
			return messagesFromValue(x[0], depth+1)
		}
	case map[string]any:
		if role, ok := x["role"].(string); ok {
			return []llmschema.Message{convertMessage(role, x)}
		}
		if msgs, ok := x["messages"]; ok {
			return messagesFromValue(msgs, depth+1)
		}
		if choices, ok := x["choices"].([]any); ok {
			var out []llmschema.Message
			for _, c := range choices {
				if cm, ok := c.(map[string]any); ok {
					if m, ok := cm["message"].(map[string]any); ok {
						role, _ := m["role"].(string)
						msg := convertMessage(role, m)
						msg.FinishReason, _ = cm["finish_reason"].(string)
						out = append(out, msg)
					}
				}
			}
			return out
		}
	}
	return nil
}

// claudeContextMessages reads Claude Code's new_context: the user turns added since the
// previous request, joined by "\n\n---\n\n", each "[USER]\n<text>" or
// "[TOOL RESULT: <tool_use_id>]\n<content>". Unmarked text is one user message.
func claudeContextMessages(s string) []llmschema.Message {
	const sep = "\n\n---\n\n"
	var msgs []llmschema.Message
	for part := range strings.SplitSeq(s, sep) {
		switch {
		case strings.HasPrefix(part, "[USER]\n"):
			msgs = append(msgs, textMessage(llmschema.RoleUser, part[len("[USER]\n"):]))
		case strings.HasPrefix(part, "[TOOL RESULT: "):
			header, body, _ := strings.Cut(part, "\n")
			id := strings.TrimSuffix(strings.TrimPrefix(header, "[TOOL RESULT: "), "]")
			msgs = append(msgs, llmschema.Message{Role: llmschema.RoleTool, Parts: []llmschema.Part{
				{Type: llmschema.PartToolCallResponse, ID: id, Response: body},
			}})
		case len(msgs) > 0:
			// A separator inside user content: keep it with the previous part.
			last := &msgs[len(msgs)-1].Parts[0]
			if t, ok := last.Content.(string); ok {
				last.Content = t + sep + part
			} else if r, ok := last.Response.(string); ok {
				last.Response = r + sep + part
			}
		default:
			msgs = append(msgs, textMessage(llmschema.RoleUser, part))
		}
	}
	return msgs
}

// vercelPrompt reads ai.prompt: {"system": "...", "prompt": "..." | "messages": [...]}.
func vercelPrompt(s string) ([]llmschema.Message, string) {
	if !looksJSON(s) {
		return []llmschema.Message{textMessage(llmschema.RoleUser, s)}, ""
	}
	var p struct {
		System   any   `json:"system"`
		Prompt   any   `json:"prompt"`
		Messages []any `json:"messages"`
	}
	if json.Unmarshal([]byte(s), &p) != nil {
		return nil, ""
	}
	var msgs []llmschema.Message
	switch x := p.Prompt.(type) {
	case string:
		msgs = append(msgs, textMessage(llmschema.RoleUser, x))
	case []any:
		if m, ok := messagesFromAny(x); ok {
			msgs = append(msgs, m...)
		}
	}
	if m, ok := messagesFromAny(p.Messages); ok {
		msgs = append(msgs, m...)
	}
	sys, _ := p.System.(string)
	return msgs, sys
}

func oiMessages(src []oiMsg) []llmschema.Message {
	msgs := make([]llmschema.Message, 0, len(src))
	for _, m := range src {
		if m.role == "" && m.content == "" && len(m.contents) == 0 && len(m.toolCalls) == 0 {
			continue
		}
		msg := llmschema.Message{Role: m.role, Name: m.name, Parts: make([]llmschema.Part, 0, 1+len(m.contents)+len(m.toolCalls))}
		if m.role == llmschema.RoleTool && m.toolCallID != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: m.toolCallID, Response: m.content})
		} else if m.content != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: m.content})
		}
		for _, c := range m.contents {
			switch {
			case c.typ == "image" || c.imageURL != "":
				msg.Parts = append(msg.Parts, mediaPart("image", c.imageURL, ""))
			case c.text != "" && c.typ == llmschema.PartReasoning:
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartReasoning, Content: c.text})
			case c.text != "":
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: c.text})
			}
		}
		for _, tc := range m.toolCalls {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: tc.id, Name: tc.name, Arguments: jsonArg(tc.args)})
		}
		if m.funcName != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, Name: m.funcName, Arguments: jsonArg(m.funcArgs)})
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

func legacyMessages(src []legacyMsg) []llmschema.Message {
	msgs := make([]llmschema.Message, 0, len(src))
	for _, m := range src {
		if m.role == "" && m.content == "" && len(m.toolCalls) == 0 {
			continue
		}
		msg := llmschema.Message{Role: m.role, FinishReason: m.finishReason, Parts: make([]llmschema.Part, 0, 1+len(m.toolCalls))}
		switch {
		case m.role == llmschema.RoleTool && m.toolCallID != "":
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: m.toolCallID, Response: m.content})
		case m.content != "":
			// Some instrumentations put a JSON list of content blocks in .content.
			if looksJSON(m.content) && m.content[0] == '[' {
				var blocks []any
				if json.Unmarshal([]byte(m.content), &blocks) == nil {
					conv := convertMessage(m.role, map[string]any{"content": blocks})
					if len(conv.Parts) > 0 {
						msg.Parts = append(msg.Parts, conv.Parts...)
						break
					}
				}
			}
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: m.content})
		}
		for _, tc := range m.toolCalls {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: tc.id, Name: tc.name, Arguments: jsonArg(tc.args)})
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// geminiRequest reads a Gemini-format request (Google ADK gcp.vertex.agent.llm_request):
// {"contents": [{"role", "parts": [...]}], "config": {"system_instruction": ...}}.
func geminiRequest(s string) ([]llmschema.Message, string) {
	if !looksJSON(s) {
		return nil, ""
	}
	var req struct {
		Contents []geminiContent `json:"contents"`
		Config   struct {
			SystemInstruction any `json:"system_instruction"`
		} `json:"config"`
	}
	if json.Unmarshal([]byte(s), &req) != nil {
		return nil, ""
	}
	msgs := make([]llmschema.Message, 0, len(req.Contents))
	for _, c := range req.Contents {
		msgs = append(msgs, c.message())
	}
	var sys string
	switch x := req.Config.SystemInstruction.(type) {
	case string:
		sys = x
	case map[string]any:
		if parts, ok := x["parts"].([]any); ok {
			sys = joinText(geminiParts(parts))
		}
	}
	return msgs, sys
}

// geminiResponse reads {"content": {...}, "finish_reason"} (ADK) or a raw Gemini
// {"candidates": [{"content": {...}, "finishReason"}]}.
func geminiResponse(s string) []llmschema.Message {
	if !looksJSON(s) {
		return nil
	}
	var resp struct {
		Content      *geminiContent `json:"content"`
		FinishReason string         `json:"finish_reason"`
		Candidates   []struct {
			Content      geminiContent `json:"content"`
			FinishReason string        `json:"finishReason"`
		} `json:"candidates"`
	}
	if json.Unmarshal([]byte(s), &resp) != nil {
		return nil
	}
	if resp.Content != nil {
		m := resp.Content.message()
		m.FinishReason = strings.ToLower(resp.FinishReason)
		return []llmschema.Message{m}
	}
	var out []llmschema.Message
	for _, c := range resp.Candidates {
		m := c.Content.message()
		m.FinishReason = strings.ToLower(c.FinishReason)
		out = append(out, m)
	}
	return out
}

type geminiContent struct {
	Role  string `json:"role"`
	Parts []any  `json:"parts"`
}

func (c geminiContent) message() llmschema.Message {
	parts := geminiParts(c.Parts)
	role := c.Role
	switch {
	case role == "model":
		role = llmschema.RoleAssistant
	case role == "" || role == llmschema.RoleUser:
		role = llmschema.RoleUser
		// Function responses travel as user content in Gemini; semconv calls them tool messages.
		allResponses := len(parts) > 0
		for _, p := range parts {
			allResponses = allResponses && p.Type == llmschema.PartToolCallResponse
		}
		if allResponses {
			role = llmschema.RoleTool
		}
	}
	return llmschema.Message{Role: role, Parts: parts}
}

func geminiParts(raw []any) []llmschema.Part {
	parts := make([]llmschema.Part, 0, len(raw))
	for _, el := range raw {
		p, ok := el.(map[string]any)
		if !ok {
			continue
		}
		switch {
		case p["function_call"] != nil || p["functionCall"] != nil:
			fc, _ := firstOf(p, "function_call", "functionCall").(map[string]any)
			part := llmschema.Part{Type: llmschema.PartToolCall, Arguments: fc["args"]}
			part.ID, _ = fc["id"].(string)
			part.Name, _ = fc["name"].(string)
			parts = append(parts, part)
		case p["function_response"] != nil || p["functionResponse"] != nil:
			fr, _ := firstOf(p, "function_response", "functionResponse").(map[string]any)
			part := llmschema.Part{Type: llmschema.PartToolCallResponse, Response: fr["response"]}
			part.ID, _ = fr["id"].(string)
			part.Name, _ = fr["name"].(string)
			parts = append(parts, part)
		case p["inline_data"] != nil || p["inlineData"] != nil:
			d, _ := firstOf(p, "inline_data", "inlineData").(map[string]any)
			mime, _ := firstOf(d, "mime_type", "mimeType").(string)
			data, _ := d["data"].(string)
			parts = append(parts, llmschema.Part{Type: llmschema.PartBlob, Modality: modalityOf(mime), MIMEType: mime, Content: data})
		case p["file_data"] != nil || p["fileData"] != nil:
			d, _ := firstOf(p, "file_data", "fileData").(map[string]any)
			mime, _ := firstOf(d, "mime_type", "mimeType").(string)
			uri, _ := firstOf(d, "file_uri", "fileUri").(string)
			parts = append(parts, llmschema.Part{Type: llmschema.PartURI, Modality: modalityOf(mime), MIMEType: mime, URI: uri})
		default:
			text, ok := p["text"].(string)
			if !ok {
				continue
			}
			typ := llmschema.PartText
			if thought, _ := p["thought"].(bool); thought {
				typ = llmschema.PartReasoning
			}
			parts = append(parts, llmschema.Part{Type: typ, Content: text})
		}
	}
	return parts
}

func firstOf(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return v
		}
	}
	return nil
}
