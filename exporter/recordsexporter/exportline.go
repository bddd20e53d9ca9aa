package recordsexporter

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"

	"github.com/tracehound/tracehound/internal/jsonenc"
	"github.com/tracehound/tracehound/internal/store"
)

// appendTestcase appends the export line of r, a record as an evaluation test case, with its
// newline. Input and output are the semconv message lists of the first and last LLM call when
// the spans carried them, passed through as sent (they are JSON already), else the record's
// plain text; source_record names the record. The bytes are those a json.Encoder with
// SetEscapeHTML(false) writes for the line's struct (testcaseLine in exportline_test.go, which
// holds the two together), without reflection: the export writes tens of thousands of lines
// a second. Scores, rare on exported records and of any value type, go through such an
// encoder (enc, writing into scratch).
func appendTestcase(b []byte, r *store.Record, enc *json.Encoder, scratch *bytes.Buffer) ([]byte, error) {
	var err error
	b = append(b, `{"input":`...)
	if b, err = appendMessagesOr(b, r.Assembly.InputMessages, r.Input); err != nil {
		return b, err
	}
	b = append(b, `,"expected":`...)
	b = appendOptString(b, r.Expected)
	b = append(b, `,"output":`...)
	if b, err = appendMessagesOr(b, r.Assembly.OutputMessages, r.Output); err != nil {
		return b, err
	}
	b = append(b, `,"metadata":`...)
	b = appendStringMap(b, r.Metadata)
	b = append(b, `,"source_record":{"id":`...)
	b = jsonenc.AppendString(b, r.ID)
	b = append(b, `,"trace_id":`...)
	b = jsonenc.AppendString(b, r.TraceID)
	b = append(b, `,"project_id":`...)
	b = jsonenc.AppendString(b, r.ProjectID)
	b = append(b, `,"run_id":`...)
	b = appendOptString(b, r.RunID)
	b = append(b, `,"testcase_id":`...)
	b = appendOptString(b, r.TestcaseID)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, r.Status)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, r.Name)
	b = append(b, `,"service":`...)
	b = jsonenc.AppendString(b, r.Service)
	b = append(b, `,"models":`...)
	if r.Models == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range r.Models {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, m)
		}
		b = append(b, ']')
	}
	b = append(b, `,"start":"`...) // as time.Time's MarshalJSON writes it, without its allocation
	if b, err = r.Start.AppendText(b); err != nil {
		return b, err
	}
	b = append(b, '"')
	b = append(b, `,"duration_ms":`...)
	var ok bool
	if b, ok = jsonenc.AppendFloat(b, r.DurationMS); !ok {
		return b, errUnsupportedFloat
	}
	b = append(b, `,"cost_usd":`...)
	if b, ok = jsonenc.AppendFloat(b, r.CostUSD); !ok {
		return b, errUnsupportedFloat
	}
	b = append(b, `,"scores":`...)
	switch {
	case r.Scores == nil:
		b = append(b, "null"...)
	case len(r.Scores) == 0:
		b = append(b, "{}"...)
	default:
		scratch.Reset()
		if err := enc.Encode(r.Scores); err != nil {
			return b, err
		}
		b = append(b, bytes.TrimSuffix(scratch.Bytes(), []byte{'\n'})...)
	}
	return append(b, "}}\n"...), nil
}

var errUnsupportedFloat = errors.New("json: unsupported value: NaN or infinite float")

// appendMessagesOr writes the message list raw, compacted as an encoder compacts a
// json.RawMessage, or the text when raw is not a list of messages.
func appendMessagesOr(b []byte, raw, text string) ([]byte, error) {
	if isMessageList(raw) {
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, []byte(raw)); err != nil {
			return b, err
		}
		return buf.Bytes(), nil
	}
	return jsonenc.AppendString(b, text), nil
}

// isMessageList reports whether raw is a non-empty JSON array.
func isMessageList(raw string) bool {
	return len(raw) > 2 && raw[0] == '[' && json.Valid([]byte(raw)) && raw != "[]"
}

// appendOptString writes an OptString as its MarshalJSON does: null, or the string with HTML
// characters escaped (json.Marshal's default, which the encoder keeps).
func appendOptString(b []byte, s store.OptString) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonenc.AppendHTMLSafeString(b, string(s))
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		b = jsonenc.AppendString(b, m[k])
	}
	return append(b, '}')
}
