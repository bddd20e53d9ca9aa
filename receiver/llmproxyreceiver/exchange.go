package llmproxyreceiver

import (
	"encoding/json"
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// exchange is what the proxy learned about one model call from its request and
// response bodies, in the canonical vocabulary.
type exchange struct {
	operation    string
	spanKind     string
	requestModel string
	params       requestParams

	systemInstructions []llmschema.Part
	inputMessages      []llmschema.Message
	inputText          string

	responseID     string
	responseModel  string
	outputMessages []llmschema.Message
	outputText     string
	finishReasons  []string
	usage          usage

	// providerError is the error object of a failed call (type and message).
	providerErrorType    string
	providerErrorMessage string
}

type requestParams struct {
	temperature      *float64
	topP             *float64
	topK             *float64
	frequencyPenalty *float64
	presencePenalty  *float64
	maxTokens        *int64
	seed             *int64
	choiceCount      *int64
	stop             []string
	encodingFormat   string
	dimensions       *int64
}

type usage struct {
	input, output, cacheRead, cacheCreation *int64
}

func int64p(v int64) *int64 { return &v }

// stringOrList decodes the "stop"-style fields that take a string or a list of strings.
func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

// jsonArguments turns tool-call arguments, which OpenAI sends as a JSON-encoded string,
// into the value they encode; text that is not JSON is kept as given.
func jsonArguments(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}

// rawValue decodes a JSON value for a message part, keeping it as given when it is
// not valid JSON.
func rawValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		return v
	}
	return string(raw)
}

// lastUserText is the plain text of the last user message: tracehound.input.
func lastUserText(msgs []llmschema.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llmschema.RoleUser {
			if t := partsText(msgs[i].Parts); t != "" {
				return t
			}
		}
	}
	return ""
}

// partsText joins the text parts of a message.
func partsText(parts []llmschema.Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type != llmschema.PartText {
			continue
		}
		s, ok := p.Content.(string)
		if !ok || s == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	return b.String()
}

// dataURLPart describes an inline data: URL without copying its payload onto the span.
func dataURLPart(uri, modality string) llmschema.Part {
	if rest, ok := strings.CutPrefix(uri, "data:"); ok {
		mime, _, _ := strings.Cut(rest, ";")
		return llmschema.Part{Type: llmschema.PartBlob, MIMEType: mime, Modality: modality}
	}
	return llmschema.Part{Type: llmschema.PartURI, URI: uri, Modality: modality}
}
