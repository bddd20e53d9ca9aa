package llmproxyreceiver

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// OpenAI wire types: only the fields the span needs. Unknown fields are ignored, so
// newer API versions keep working.

type oaRequest struct {
	Model               string          `json:"model"`
	Messages            []oaMessage     `json:"messages"`
	Prompt              json.RawMessage `json:"prompt"`
	Input               json.RawMessage `json:"input"`
	Instructions        string          `json:"instructions"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	MaxOutputTokens     *int64          `json:"max_output_tokens"`
	Seed                *int64          `json:"seed"`
	N                   *int64          `json:"n"`
	Stop                json.RawMessage `json:"stop"`
	EncodingFormat      string          `json:"encoding_format"`
	Dimensions          *int64          `json:"dimensions"`
}

type oaMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCalls  []oaToolCall    `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Refusal    *string         `json:"refusal"`
}

type oaToolCall struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaContentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL any    `json:"image_url"`
	FileID   string `json:"file_id"`
	File     *struct {
		FileID   string `json:"file_id"`
		Filename string `json:"filename"`
	} `json:"file"`
}

type oaUsage struct {
	PromptTokens        *int64 `json:"prompt_tokens"`
	CompletionTokens    *int64 `json:"completion_tokens"`
	InputTokens         *int64 `json:"input_tokens"`
	OutputTokens        *int64 `json:"output_tokens"`
	PromptTokensDetails *struct {
		CachedTokens *int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	InputTokensDetails *struct {
		CachedTokens *int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
}

func (u *oaUsage) apply(dst *usage) {
	if u == nil {
		return
	}
	if u.PromptTokens != nil {
		dst.input = u.PromptTokens
	} else if u.InputTokens != nil {
		dst.input = u.InputTokens
	}
	if u.CompletionTokens != nil {
		dst.output = u.CompletionTokens
	} else if u.OutputTokens != nil {
		dst.output = u.OutputTokens
	}
	if u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens != nil {
		dst.cacheRead = u.PromptTokensDetails.CachedTokens
	} else if u.InputTokensDetails != nil && u.InputTokensDetails.CachedTokens != nil {
		dst.cacheRead = u.InputTokensDetails.CachedTokens
	}
}

type oaChoice struct {
	Index        int       `json:"index"`
	Message      oaMessage `json:"message"`
	Delta        oaMessage `json:"delta"`
	Text         string    `json:"text"`
	FinishReason *string   `json:"finish_reason"`
}

type oaResponse struct {
	ID      string     `json:"id"`
	Model   string     `json:"model"`
	Choices []oaChoice `json:"choices"`
	Usage   *oaUsage   `json:"usage"`
	Error   *oaError   `json:"error"`
}

type oaError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"`
}

// parseOpenAIRequest reads the request of any OpenAI route into ex.
func parseOpenAIRequest(body []byte, ex *exchange) {
	var req oaRequest
	if json.Unmarshal(body, &req) != nil {
		return
	}
	ex.requestModel = req.Model
	p := &ex.params
	p.temperature, p.topP = req.Temperature, req.TopP
	p.frequencyPenalty, p.presencePenalty = req.FrequencyPenalty, req.PresencePenalty
	p.seed, p.choiceCount = req.Seed, req.N
	p.stop = stringOrList(req.Stop)
	p.encodingFormat, p.dimensions = req.EncodingFormat, req.Dimensions
	switch {
	case req.MaxCompletionTokens != nil:
		p.maxTokens = req.MaxCompletionTokens
	case req.MaxOutputTokens != nil:
		p.maxTokens = req.MaxOutputTokens
	default:
		p.maxTokens = req.MaxTokens
	}

	switch ex.operation {
	case llmschema.OperationChat:
		if len(req.Messages) > 0 {
			ex.systemInstructions, ex.inputMessages = convertOpenAIMessages(req.Messages)
		} else {
			// The Responses API: instructions plus input (a string or a list of items).
			if req.Instructions != "" {
				ex.systemInstructions = []llmschema.Part{{Type: llmschema.PartText, Content: req.Instructions}}
			}
			var sys []llmschema.Part
			sys, ex.inputMessages = convertResponsesInput(req.Input)
			ex.systemInstructions = append(ex.systemInstructions, sys...)
		}
		ex.inputText = lastUserText(ex.inputMessages)
	case llmschema.OperationTextCompletion:
		prompts := stringOrList(req.Prompt)
		for _, pr := range prompts {
			ex.inputMessages = append(ex.inputMessages, llmschema.Message{
				Role:  llmschema.RoleUser,
				Parts: []llmschema.Part{{Type: llmschema.PartText, Content: pr}},
			})
		}
		ex.inputText = strings.Join(prompts, "\n")
	case llmschema.OperationEmbeddings:
		// Token-array inputs have no text to show.
		ex.inputText = strings.Join(stringOrList(req.Input), "\n")
	}
}

func convertOpenAIMessages(in []oaMessage) ([]llmschema.Part, []llmschema.Message) {
	var system []llmschema.Part
	out := make([]llmschema.Message, 0, len(in))
	for _, m := range in {
		parts := openAIContentParts(m.Content)
		if m.Role == "system" || m.Role == "developer" {
			system = append(system, parts...)
			continue
		}
		if m.Role == llmschema.RoleTool {
			out = append(out, llmschema.Message{
				Role: llmschema.RoleTool,
				Parts: []llmschema.Part{{
					Type:     llmschema.PartToolCallResponse,
					ID:       m.ToolCallID,
					Response: toolResponse(parts, m.Content),
				}},
			})
			continue
		}
		if m.Refusal != nil && *m.Refusal != "" {
			parts = append(parts, llmschema.Part{Type: llmschema.PartText, Content: *m.Refusal})
		}
		for _, tc := range m.ToolCalls {
			parts = append(parts, llmschema.Part{
				Type:      llmschema.PartToolCall,
				ID:        tc.ID,
				Name:      tc.Function.Name,
				Arguments: jsonArguments(tc.Function.Arguments),
			})
		}
		out = append(out, llmschema.Message{Role: m.Role, Name: m.Name, Parts: parts})
	}
	return system, out
}

// toolResponse is the text of a tool message, or its raw content when it has no text.
func toolResponse(parts []llmschema.Part, raw json.RawMessage) any {
	if t := partsText(parts); t != "" {
		return t
	}
	return rawValue(raw)
}

// openAIContentParts converts a message content: a string or a list of typed parts.
func openAIContentParts(raw json.RawMessage) []llmschema.Part {
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
	var list []oaContentPart
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	parts := make([]llmschema.Part, 0, len(list))
	for _, c := range list {
		switch c.Type {
		case "text", "input_text", "output_text":
			parts = append(parts, llmschema.Part{Type: llmschema.PartText, Content: c.Text})
		case "refusal":
			parts = append(parts, llmschema.Part{Type: llmschema.PartText, Content: c.Refusal})
		case "image_url", "input_image":
			parts = append(parts, dataURLPart(imageURL(c.ImageURL), "image"))
		case "input_audio":
			parts = append(parts, llmschema.Part{Type: llmschema.PartBlob, Modality: "audio"})
		case "file", "input_file":
			id := c.FileID
			if c.File != nil && c.File.FileID != "" {
				id = c.File.FileID
			}
			parts = append(parts, llmschema.Part{Type: llmschema.PartFile, ID: id})
		default:
			parts = append(parts, llmschema.Part{Type: c.Type})
		}
	}
	return parts
}

// imageURL reads image_url in both spellings: {"url": "..."} (chat) and "..." (responses).
func imageURL(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		s, _ := t["url"].(string)
		return s
	}
	return ""
}

// Responses API items.
type respItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

func convertResponsesInput(raw json.RawMessage) ([]llmschema.Part, []llmschema.Message) {
	if len(raw) == 0 {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return nil, []llmschema.Message{{Role: llmschema.RoleUser, Parts: []llmschema.Part{{Type: llmschema.PartText, Content: s}}}}
	}
	var items []respItem
	if json.Unmarshal(raw, &items) != nil {
		return nil, nil
	}
	var system []llmschema.Part
	var out []llmschema.Message
	appendPart := func(role string, p llmschema.Part) {
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Parts = append(out[n-1].Parts, p)
			return
		}
		out = append(out, llmschema.Message{Role: role, Parts: []llmschema.Part{p}})
	}
	for _, it := range items {
		switch it.Type {
		case "", "message":
			parts := openAIContentParts(it.Content)
			if it.Role == "system" || it.Role == "developer" {
				system = append(system, parts...)
				continue
			}
			out = append(out, llmschema.Message{Role: it.Role, Parts: parts})
		case "function_call":
			appendPart(llmschema.RoleAssistant, llmschema.Part{
				Type: llmschema.PartToolCall, ID: it.CallID, Name: it.Name, Arguments: jsonArguments(it.Arguments),
			})
		case "function_call_output":
			appendPart(llmschema.RoleTool, llmschema.Part{
				Type: llmschema.PartToolCallResponse, ID: it.CallID, Response: rawValue(it.Output),
			})
		}
	}
	return system, out
}

// parseOpenAIResponse reads a complete (non-streamed) response body of route op.
func parseOpenAIResponse(body []byte, responsesAPI bool, ex *exchange) {
	if responsesAPI {
		parseResponsesObject(body, ex)
		return
	}
	var resp oaResponse
	if json.Unmarshal(body, &resp) != nil {
		return
	}
	ex.responseID, ex.responseModel = resp.ID, resp.Model
	resp.Usage.apply(&ex.usage)
	for _, c := range resp.Choices {
		msg := llmschema.Message{Role: llmschema.RoleAssistant}
		if ex.operation == llmschema.OperationTextCompletion {
			msg.Parts = []llmschema.Part{{Type: llmschema.PartText, Content: c.Text}}
		} else {
			if c.Message.Role != "" {
				msg.Role = c.Message.Role
			}
			msg.Parts = openAIContentParts(c.Message.Content)
			if c.Message.Refusal != nil && *c.Message.Refusal != "" {
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: *c.Message.Refusal})
			}
			for _, tc := range c.Message.ToolCalls {
				msg.Parts = append(msg.Parts, llmschema.Part{
					Type: llmschema.PartToolCall, ID: tc.ID, Name: tc.Function.Name, Arguments: jsonArguments(tc.Function.Arguments),
				})
			}
		}
		if c.FinishReason != nil {
			msg.FinishReason = *c.FinishReason
			ex.finishReasons = append(ex.finishReasons, *c.FinishReason)
		}
		ex.outputMessages = append(ex.outputMessages, msg)
	}
	if len(ex.outputMessages) > 0 {
		ex.outputText = partsText(ex.outputMessages[0].Parts)
	}
}

type respObject struct {
	ID                string     `json:"id"`
	Model             string     `json:"model"`
	Status            string     `json:"status"`
	Output            []respItem `json:"output"`
	Usage             *oaUsage   `json:"usage"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Error *oaError `json:"error"`
}

func parseResponsesObject(body []byte, ex *exchange) {
	var r respObject
	if json.Unmarshal(body, &r) != nil {
		return
	}
	applyResponsesObject(&r, ex)
}

func applyResponsesObject(r *respObject, ex *exchange) {
	ex.responseID, ex.responseModel = r.ID, r.Model
	r.Usage.apply(&ex.usage)
	msg := llmschema.Message{Role: llmschema.RoleAssistant}
	hasToolCall := false
	for _, it := range r.Output {
		switch it.Type {
		case "message":
			msg.Parts = append(msg.Parts, openAIContentParts(it.Content)...)
		case "function_call":
			hasToolCall = true
			msg.Parts = append(msg.Parts, llmschema.Part{
				Type: llmschema.PartToolCall, ID: it.CallID, Name: it.Name, Arguments: jsonArguments(it.Arguments),
			})
		case "reasoning":
			for _, s := range it.Summary {
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartReasoning, Content: s.Text})
			}
		}
	}
	switch {
	case r.Status == "incomplete" && r.IncompleteDetails != nil:
		msg.FinishReason = r.IncompleteDetails.Reason
	case r.Status == "failed":
		msg.FinishReason = "error"
		if r.Error != nil {
			ex.providerErrorType, ex.providerErrorMessage = errorCode(r.Error), r.Error.Message
		}
	case hasToolCall:
		msg.FinishReason = "tool_calls"
	case r.Status == "completed":
		msg.FinishReason = "stop"
	}
	if msg.FinishReason != "" {
		ex.finishReasons = []string{msg.FinishReason}
	}
	if len(msg.Parts) > 0 || msg.FinishReason != "" {
		ex.outputMessages = []llmschema.Message{msg}
		ex.outputText = partsText(msg.Parts)
	}
}

// errorCode prefers the machine-readable code over the broader type.
func errorCode(e *oaError) string {
	if s, ok := e.Code.(string); ok && s != "" {
		return s
	}
	return e.Type
}

// parseOpenAIError reads the error body of a failed OpenAI-style call.
func parseOpenAIError(body []byte, ex *exchange) {
	var resp struct {
		Error *oaError `json:"error"`
	}
	if json.Unmarshal(body, &resp) != nil || resp.Error == nil {
		return
	}
	ex.providerErrorType, ex.providerErrorMessage = errorCode(resp.Error), resp.Error.Message
}

// oaChatStream assembles chat and text-completion chunks.
type oaChatStream struct {
	completion bool
	id, model  string
	usage      *oaUsage
	choices    map[int]*oaStreamChoice
	err        *oaError
	sawDone    bool
}

func (s *oaChatStream) done() bool { return s.sawDone }

type oaStreamChoice struct {
	role      string
	text      strings.Builder
	refusal   strings.Builder
	reasoning strings.Builder
	tools     map[int]*oaStreamTool
	finish    string
}

type oaStreamTool struct {
	id, name string
	args     strings.Builder
}

type oaChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role             string       `json:"role"`
			Content          string       `json:"content"`
			Refusal          string       `json:"refusal"`
			ReasoningContent string       `json:"reasoning_content"`
			Reasoning        string       `json:"reasoning"`
			ToolCalls        []oaToolCall `json:"tool_calls"`
		} `json:"delta"`
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage `json:"usage"`
	Error *oaError `json:"error"`
}

func (s *oaChatStream) event(_ string, data []byte) bool {
	if string(data) == "[DONE]" {
		s.sawDone = true
		return false
	}
	var c oaChunk
	if json.Unmarshal(data, &c) != nil {
		return false
	}
	if c.Error != nil {
		s.err = c.Error
	}
	if c.ID != "" {
		s.id = c.ID
	}
	if c.Model != "" {
		s.model = c.Model
	}
	if c.Usage != nil {
		s.usage = c.Usage
	}
	content := false
	for i := range c.Choices {
		ch := &c.Choices[i]
		if s.choices == nil {
			s.choices = map[int]*oaStreamChoice{}
		}
		st := s.choices[ch.Index]
		if st == nil {
			st = &oaStreamChoice{}
			s.choices[ch.Index] = st
		}
		d := &ch.Delta
		if d.Role != "" {
			st.role = d.Role
		}
		text := d.Content
		if s.completion {
			text = ch.Text
		}
		st.text.WriteString(text)
		st.refusal.WriteString(d.Refusal)
		st.reasoning.WriteString(d.ReasoningContent)
		st.reasoning.WriteString(d.Reasoning)
		if text != "" || d.Refusal != "" || d.ReasoningContent != "" || d.Reasoning != "" || len(d.ToolCalls) > 0 {
			content = true
		}
		for _, tc := range d.ToolCalls {
			if st.tools == nil {
				st.tools = map[int]*oaStreamTool{}
			}
			t := st.tools[tc.Index]
			if t == nil {
				t = &oaStreamTool{}
				st.tools[tc.Index] = t
			}
			if tc.ID != "" {
				t.id = tc.ID
			}
			if t.name == "" {
				t.name = tc.Function.Name
			}
			t.args.WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			st.finish = *ch.FinishReason
		}
	}
	return content
}

func (s *oaChatStream) finish(ex *exchange) {
	ex.responseID, ex.responseModel = s.id, s.model
	s.usage.apply(&ex.usage)
	if s.err != nil {
		ex.providerErrorType, ex.providerErrorMessage = errorCode(s.err), s.err.Message
	}
	indexes := make([]int, 0, len(s.choices))
	for i := range s.choices {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	for _, i := range indexes {
		st := s.choices[i]
		msg := llmschema.Message{Role: llmschema.RoleAssistant, FinishReason: st.finish}
		if st.role != "" {
			msg.Role = st.role
		}
		if st.reasoning.Len() > 0 {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartReasoning, Content: st.reasoning.String()})
		}
		if st.text.Len() > 0 {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: st.text.String()})
		}
		if st.refusal.Len() > 0 {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: st.refusal.String()})
		}
		toolIdx := make([]int, 0, len(st.tools))
		for j := range st.tools {
			toolIdx = append(toolIdx, j)
		}
		sort.Ints(toolIdx)
		for _, j := range toolIdx {
			t := st.tools[j]
			msg.Parts = append(msg.Parts, llmschema.Part{
				Type: llmschema.PartToolCall, ID: t.id, Name: t.name, Arguments: jsonArguments(t.args.String()),
			})
		}
		if st.finish != "" {
			ex.finishReasons = append(ex.finishReasons, st.finish)
		}
		ex.outputMessages = append(ex.outputMessages, msg)
	}
	if len(ex.outputMessages) > 0 {
		ex.outputText = partsText(ex.outputMessages[0].Parts)
	}
}

// oaResponsesStream assembles a Responses API event stream: the terminal event carries
// the whole response object; text deltas are kept in case the stream is cut short.
type oaResponsesStream struct {
	final *respObject
	text  strings.Builder
	err   *oaError
}

func (s *oaResponsesStream) done() bool { return s.final != nil }

func (s *oaResponsesStream) event(name string, data []byte) bool {
	var ev struct {
		Type     string      `json:"type"`
		Delta    string      `json:"delta"`
		Response *respObject `json:"response"`
		Message  string      `json:"message"`
		Code     any         `json:"code"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return false
	}
	if ev.Type == "" {
		ev.Type = name
	}
	switch ev.Type {
	case "response.output_text.delta":
		s.text.WriteString(ev.Delta)
		return ev.Delta != ""
	case "response.refusal.delta", "response.function_call_arguments.delta", "response.reasoning_summary_text.delta":
		return ev.Delta != ""
	case "response.completed", "response.incomplete", "response.failed":
		s.final = ev.Response
	case "error":
		s.err = &oaError{Message: ev.Message, Code: ev.Code, Type: "error"}
	}
	return false
}

func (s *oaResponsesStream) finish(ex *exchange) {
	if s.final != nil {
		applyResponsesObject(s.final, ex)
	} else if s.text.Len() > 0 {
		msg := llmschema.Message{Role: llmschema.RoleAssistant, Parts: []llmschema.Part{{Type: llmschema.PartText, Content: s.text.String()}}}
		ex.outputMessages = []llmschema.Message{msg}
		ex.outputText = s.text.String()
	}
	if s.err != nil {
		ex.providerErrorType, ex.providerErrorMessage = errorCode(s.err), s.err.Message
	}
}
