package llmextractprocessor

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tracehound/tracehound/internal/jsonenc"
	"github.com/tracehound/tracehound/internal/llmschema"
)

// appendMessages encodes msgs exactly as encoding/json would encode []llmschema.Message
// (same field names, order and omitempty rules) except that it does not HTML-escape, and
// it avoids reflection: messages are written for most LLM spans, so this is hot.
func appendMessages(b []byte, msgs []llmschema.Message) ([]byte, error) {
	if msgs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":`...)
		b = appendString(b, m.Role)
		b = append(b, `,"parts":`...)
		if m.Parts == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, p := range m.Parts {
				if j > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = appendPart(b, p); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = appendString(b, m.Name)
		}
		if m.FinishReason != "" {
			b = append(b, `,"finish_reason":`...)
			b = appendString(b, m.FinishReason)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendPart(b []byte, p llmschema.Part) ([]byte, error) {
	var err error
	b = append(b, `{"type":`...)
	b = appendString(b, p.Type)
	if p.Content != nil {
		b = append(b, `,"content":`...)
		if b, err = appendAny(b, p.Content); err != nil {
			return nil, err
		}
	}
	for _, f := range [...]struct{ key, val string }{{`,"id":`, p.ID}, {`,"name":`, p.Name}} {
		if f.val != "" {
			b = append(b, f.key...)
			b = appendString(b, f.val)
		}
	}
	if p.Arguments != nil {
		b = append(b, `,"arguments":`...)
		if b, err = appendAny(b, p.Arguments); err != nil {
			return nil, err
		}
	}
	if p.Response != nil {
		b = append(b, `,"response":`...)
		if b, err = appendAny(b, p.Response); err != nil {
			return nil, err
		}
	}
	for _, f := range [...]struct{ key, val string }{{`,"mime_type":`, p.MIMEType}, {`,"modality":`, p.Modality}, {`,"uri":`, p.URI}} {
		if f.val != "" {
			b = append(b, f.key...)
			b = appendString(b, f.val)
		}
	}
	return append(b, '}'), nil
}

func appendAny(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(b, x), nil
	case json.RawMessage:
		var buf bytes.Buffer
		if err := json.Compact(&buf, x); err != nil {
			return nil, err
		}
		return append(b, buf.Bytes()...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendString writes s as a JSON string, replacing invalid UTF-8 with U+FFFD.
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }

// appendDocs encodes docs exactly as json.Marshal encodes []llmschema.Document (HTML-safe
// strings, omitempty, encoding/json's float format), without reflection; ok is false where
// json.Marshal fails (a NaN or infinite score).
func appendDocs(b []byte, docs []llmschema.Document) (_ []byte, ok bool) {
	b = append(b, '[')
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if d.ID != "" {
			b = append(b, `"id":`...)
			b = jsonenc.AppendHTMLSafeString(b, d.ID)
			b = append(b, ',')
		}
		b = append(b, `"content":`...)
		b = jsonenc.AppendHTMLSafeString(b, d.Content)
		if d.Score != 0 {
			b = append(b, `,"score":`...)
			if b, ok = jsonenc.AppendFloat(b, d.Score); !ok {
				return b, false
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), true
}
