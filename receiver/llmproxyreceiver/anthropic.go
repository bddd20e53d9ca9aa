package llmproxyreceiver

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Anthropic Messages API wire types: only the fields the span needs.

type anRequest struct {
	Model         string          `json:"model"`
	System        json.RawMessage `json:"system"`
	Messages      []anMessage     `json:"messages"`
	MaxTokens     *int64          `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *float64        `json:"top_k"`
	StopSequences []string        `json:"stop_sequences"`
}

type anMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type anBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	Source    *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		URL       string `json:"url"`
		FileID    string `json:"file_id"`
	} `json:"source"`
}

type anUsage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
}

// merge takes the fields u carries; message_delta repeats only some of them.
func (u *anUsage) merge(dst *anUsage) {
	if u == nil {
		return
	}
	if u.InputTokens != nil {
		dst.InputTokens = u.InputTokens
	}
	if u.OutputTokens != nil {
		dst.OutputTokens = u.OutputTokens
	}
	if u.CacheCreationInputTokens != nil {
		dst.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.CacheReadInputTokens != nil {
		dst.CacheReadInputTokens = u.CacheReadInputTokens
	}
}

// apply converts to the OpenTelemetry convention, where input tokens include the
// cached ones; Anthropic counts them apart.
func (u *anUsage) apply(dst *usage) {
	if u.InputTokens != nil {
		in := *u.InputTokens
		if u.CacheCreationInputTokens != nil {
			in += *u.CacheCreationInputTokens
		}
		if u.CacheReadInputTokens != nil {
			in += *u.CacheReadInputTokens
		}
		dst.input = int64p(in)
	}
	dst.output = u.OutputTokens
	dst.cacheRead = u.CacheReadInputTokens
	dst.cacheCreation = u.CacheCreationInputTokens
}

type anResponse struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Role       string    `json:"role"`
	Model      string    `json:"model"`
	Content    []anBlock `json:"content"`
	StopReason string    `json:"stop_reason"`
	Usage      anUsage   `json:"usage"`
}

type anError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func parseAnthropicRequest(body []byte, ex *exchange) {
	var req anRequest
	if json.Unmarshal(body, &req) != nil {
		return
	}
	ex.requestModel = req.Model
	ex.params.maxTokens, ex.params.temperature = req.MaxTokens, req.Temperature
	ex.params.topP, ex.params.topK = req.TopP, req.TopK
	ex.params.stop = req.StopSequences
	ex.systemInstructions = anthropicContentParts(req.System)
	for _, m := range req.Messages {
		parts := anthropicContentParts(m.Content)
		// Tool results travel in user turns; the convention gives them the tool role.
		role := m.Role
		if len(parts) > 0 && allToolResponses(parts) {
			role = llmschema.RoleTool
		}
		ex.inputMessages = append(ex.inputMessages, llmschema.Message{Role: role, Parts: parts})
	}
	ex.inputText = lastUserText(ex.inputMessages)
}

func allToolResponses(parts []llmschema.Part) bool {
	for _, p := range parts {
		if p.Type != llmschema.PartToolCallResponse {
			return false
		}
	}
	return true
}

func anthropicContentParts(raw json.RawMessage) []llmschema.Part {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []llmschema.Part{{Type: llmschema.PartText, Content: s}}
	}
	var blocks []anBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	parts := make([]llmschema.Part, 0, len(blocks))
	for _, b := range blocks {
		parts = append(parts, anthropicBlockPart(b))
	}
	return parts
}

func anthropicBlockPart(b anBlock) llmschema.Part {
	switch b.Type {
	case "text":
		return llmschema.Part{Type: llmschema.PartText, Content: b.Text}
	case "thinking":
		return llmschema.Part{Type: llmschema.PartReasoning, Content: b.Thinking}
	case "tool_use", "server_tool_use":
		return llmschema.Part{Type: llmschema.PartToolCall, ID: b.ID, Name: b.Name, Arguments: rawValue(b.Input)}
	case "tool_result":
		resp := any(partsText(anthropicContentParts(b.Content)))
		if resp == "" {
			resp = rawValue(b.Content)
		}
		return llmschema.Part{Type: llmschema.PartToolCallResponse, ID: b.ToolUseID, Response: resp}
	case "image", "document":
		modality := "image"
		if b.Type == "document" {
			modality = "document"
		}
		if b.Source == nil {
			return llmschema.Part{Type: llmschema.PartBlob, Modality: modality}
		}
		switch b.Source.Type {
		case "url":
			return llmschema.Part{Type: llmschema.PartURI, URI: b.Source.URL, Modality: modality}
		case "file":
			return llmschema.Part{Type: llmschema.PartFile, ID: b.Source.FileID, Modality: modality}
		}
		return llmschema.Part{Type: llmschema.PartBlob, MIMEType: b.Source.MediaType, Modality: modality}
	}
	return llmschema.Part{Type: b.Type}
}

func parseAnthropicResponse(body []byte, ex *exchange) {
	var resp anResponse
	if json.Unmarshal(body, &resp) != nil {
		return
	}
	ex.responseID, ex.responseModel = resp.ID, resp.Model
	resp.Usage.apply(&ex.usage)
	msg := llmschema.Message{Role: llmschema.RoleAssistant, FinishReason: resp.StopReason}
	for _, b := range resp.Content {
		msg.Parts = append(msg.Parts, anthropicBlockPart(b))
	}
	ex.outputMessages = []llmschema.Message{msg}
	ex.outputText = partsText(msg.Parts)
	if resp.StopReason != "" {
		ex.finishReasons = []string{resp.StopReason}
	}
}

func parseAnthropicError(body []byte, ex *exchange) {
	var resp struct {
		Error *anError `json:"error"`
	}
	if json.Unmarshal(body, &resp) != nil || resp.Error == nil {
		return
	}
	ex.providerErrorType, ex.providerErrorMessage = resp.Error.Type, resp.Error.Message
}

// anStream assembles a Messages API event stream.
type anStream struct {
	id, model  string
	stopReason string
	usage      anUsage
	blocks     map[int]*anStreamBlock
	err        *anError
	stopped    bool
}

func (s *anStream) done() bool { return s.stopped }

type anStreamBlock struct {
	typ, id, name string
	text          strings.Builder
	input         strings.Builder
	startInput    json.RawMessage
}

type anEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string   `json:"id"`
		Model string   `json:"model"`
		Usage *anUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *anBlock `json:"content_block"`
	Delta        *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anUsage `json:"usage"`
	Error *anError `json:"error"`
}

func (s *anStream) event(_ string, data []byte) bool {
	var ev anEvent
	if json.Unmarshal(data, &ev) != nil {
		return false
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			s.id, s.model = ev.Message.ID, ev.Message.Model
			ev.Message.Usage.merge(&s.usage)
		}
	case "content_block_start":
		if ev.ContentBlock == nil {
			return false
		}
		b := s.block(ev.Index)
		b.typ, b.id, b.name = ev.ContentBlock.Type, ev.ContentBlock.ID, ev.ContentBlock.Name
		b.text.WriteString(ev.ContentBlock.Text)
		b.startInput = ev.ContentBlock.Input
		return ev.ContentBlock.Text != ""
	case "content_block_delta":
		if ev.Delta == nil {
			return false
		}
		b := s.block(ev.Index)
		switch ev.Delta.Type {
		case "text_delta":
			b.text.WriteString(ev.Delta.Text)
			return ev.Delta.Text != ""
		case "thinking_delta":
			b.text.WriteString(ev.Delta.Thinking)
			return ev.Delta.Thinking != ""
		case "input_json_delta":
			b.input.WriteString(ev.Delta.PartialJSON)
			return ev.Delta.PartialJSON != ""
		}
	case "message_delta":
		if ev.Delta != nil && ev.Delta.StopReason != "" {
			s.stopReason = ev.Delta.StopReason
		}
		ev.Usage.merge(&s.usage)
	case "message_stop":
		s.stopped = true
	case "error":
		s.err = ev.Error
	}
	return false
}

func (s *anStream) block(i int) *anStreamBlock {
	if s.blocks == nil {
		s.blocks = map[int]*anStreamBlock{}
	}
	b := s.blocks[i]
	if b == nil {
		b = &anStreamBlock{}
		s.blocks[i] = b
	}
	return b
}

func (s *anStream) finish(ex *exchange) {
	ex.responseID, ex.responseModel = s.id, s.model
	s.usage.apply(&ex.usage)
	if s.err != nil {
		ex.providerErrorType, ex.providerErrorMessage = s.err.Type, s.err.Message
	}
	indexes := make([]int, 0, len(s.blocks))
	for i := range s.blocks {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	msg := llmschema.Message{Role: llmschema.RoleAssistant, FinishReason: s.stopReason}
	for _, i := range indexes {
		b := s.blocks[i]
		switch b.typ {
		case "tool_use", "server_tool_use":
			var args any
			if b.input.Len() > 0 {
				args = jsonArguments(b.input.String())
			} else {
				args = rawValue(b.startInput)
			}
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: b.id, Name: b.name, Arguments: args})
		case "thinking":
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartReasoning, Content: b.text.String()})
		case "text", "":
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: b.text.String()})
		default:
			msg.Parts = append(msg.Parts, llmschema.Part{Type: b.typ})
		}
	}
	if len(msg.Parts) > 0 || msg.FinishReason != "" {
		ex.outputMessages = []llmschema.Message{msg}
		ex.outputText = partsText(msg.Parts)
	}
	if s.stopReason != "" {
		ex.finishReasons = []string{s.stopReason}
	}
}
