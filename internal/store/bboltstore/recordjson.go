package bboltstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tracehound/tracehound/internal/jsonenc"
	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// appendRecordJSON appends the JSON of a stored record — the record's fields in declaration
// order, then its assembly as "_asm" — byte for byte as encoding/json marshals storedRecord,
// without reflection: every new record is encoded on the ingest path. (go-json's encoder
// is not an option: it faulted here under concurrent use, goccy/go-json#519.) The large texts are
// left out by the caller (see encodeRecord). TestAppendRecordJSON_MatchesEncodingJSON and
// FuzzAppendRecordJSON hold it to encoding/json; a field added to Record, Assembly or the
// types they hold must be added here too (TestAppendRecordJSON_KnowsEveryField fails until
// it is).
func appendRecordJSON(b []byte, r *store.Record, asm *store.Assembly) ([]byte, error) {
	e := jsonAppender{b: b}
	e.raw(`{"id":`)
	e.str(r.ID)
	e.raw(`,"trace_id":`)
	e.str(r.TraceID)
	e.raw(`,"project_id":`)
	e.str(r.ProjectID)
	e.raw(`,"run_id":`)
	e.optStr(r.RunID)
	e.raw(`,"testcase_id":`)
	e.optStr(r.TestcaseID)
	e.raw(`,"source":`)
	e.str(r.Source)
	e.raw(`,"status":`)
	e.str(r.Status)
	e.raw(`,"name":`)
	e.str(r.Name)
	e.raw(`,"service":`)
	e.str(r.Service)
	e.raw(`,"user_id":`)
	e.optStr(r.UserID)
	e.raw(`,"session_id":`)
	e.optStr(r.SessionID)
	e.raw(`,"models":`)
	e.strs(r.Models)
	e.raw(`,"start":`)
	e.time(r.Start)
	e.raw(`,"end":`)
	e.time(r.End)
	e.raw(`,"duration_ms":`)
	e.float(r.DurationMS)
	e.raw(`,"input":`)
	e.str(r.Input)
	e.raw(`,"output":`)
	e.str(r.Output)
	e.raw(`,"expected":`)
	e.optStr(r.Expected)
	e.raw(`,"usage":`)
	e.usage(&r.Usage)
	e.raw(`,"cost_usd":`)
	e.float(r.CostUSD)
	if r.CostUnknown {
		e.raw(`,"cost_unknown":true`)
	}
	e.raw(`,"span_count":`)
	e.int(int64(r.SpanCount))
	e.raw(`,"llm_call_count":`)
	e.int(int64(r.LLMCallCount))
	e.raw(`,"error_count":`)
	e.int(int64(r.ErrorCount))
	e.raw(`,"flags":`)
	e.flags(r.Flags)
	e.raw(`,"scores":`)
	appendObject(&e, r.Scores, e.score)
	e.raw(`,"metadata":`)
	appendObject(&e, r.Metadata, e.str)
	e.raw(`,"_asm":`)
	e.assembly(asm)
	e.raw(`}`)
	return e.b, e.err
}

// jsonAppender appends JSON values the way encoding/json writes them (HTML-safe string
// escapes, its float format, sorted map keys, null for nil slices and maps) and keeps the
// first error, as encoding/json fails on NaN, infinities and out-of-range times.
type jsonAppender struct {
	b   []byte
	err error
}

func (e *jsonAppender) raw(s string) { e.b = append(e.b, s...) }

func (e *jsonAppender) str(s string) { e.b = jsonenc.AppendHTMLSafeString(e.b, s) }

func (e *jsonAppender) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

func (e *jsonAppender) int(v int64) { e.b = strconv.AppendInt(e.b, v, 10) }

func (e *jsonAppender) optStr(s store.OptString) {
	if s == "" {
		e.raw("null")
		return
	}
	e.str(string(s))
}

func (e *jsonAppender) strs(list []string) {
	if list == nil {
		e.raw("null")
		return
	}
	e.b = append(e.b, '[')
	for i, s := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

// float writes f as encoding/json does (jsonenc.AppendFloat), failing as it does on NaN and
// infinities.
func (e *jsonAppender) float(f float64) {
	b, ok := jsonenc.AppendFloat(e.b, f)
	if !ok {
		e.fail(fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64)))
		b = append(b, "null"...)
	}
	e.b = b
}

func (e *jsonAppender) time(t time.Time) {
	out, err := t.AppendText(append(e.b, '"'))
	if err != nil {
		e.fail(fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err))
		e.raw("null")
		return
	}
	e.b = append(out, '"')
}

func (e *jsonAppender) usage(u *store.Usage) {
	e.raw(`{"input":`)
	e.int(u.Input)
	e.raw(`,"output":`)
	e.int(u.Output)
	e.raw(`,"total":`)
	e.int(u.Total)
	e.raw(`,"cache_read":`)
	e.int(u.CacheRead)
	e.raw(`,"cache_write":`)
	e.int(u.CacheWrite)
	e.raw(`}`)
}

func (e *jsonAppender) flags(list []llmschema.Flag) {
	if list == nil {
		e.raw("null")
		return
	}
	e.b = append(e.b, '[')
	for i := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.flag(&list[i])
	}
	e.b = append(e.b, ']')
}

func (e *jsonAppender) flag(f *llmschema.Flag) {
	e.raw(`{"code":`)
	e.str(f.Code)
	e.raw(`,"category":`)
	e.str(f.Category)
	e.raw(`,"severity":`)
	e.str(f.Severity)
	e.raw(`,"message":`)
	e.str(f.Message)
	e.omittableStr(`,"evidence":`, f.Evidence)
	e.omittableStr(`,"span_id":`, f.SpanID)
	e.omittableStr(`,"source":`, f.Source)
	e.raw(`}`)
}

// omittableStr writes a field tagged omitempty: key (with its leading comma) and value
// when the value is not empty.
func (e *jsonAppender) omittableStr(key, s string) {
	if s != "" {
		e.raw(key)
		e.str(s)
	}
}

func (e *jsonAppender) omittableInt(key string, v int64) {
	if v != 0 {
		e.raw(key)
		e.int(v)
	}
}

func (e *jsonAppender) omittableTrue(key string, v bool) {
	if v {
		e.raw(key)
		e.raw("true")
	}
}

// appendObject writes m as a JSON object, keys sorted as encoding/json sorts them, each value
// written by value; a nil map is null.
func appendObject[V any](e *jsonAppender, m map[string]V, value func(V)) {
	if m == nil {
		e.raw("null")
		return
	}
	e.b = append(e.b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(k)
		e.b = append(e.b, ':')
		value(m[k])
	}
	e.b = append(e.b, '}')
}

func (e *jsonAppender) score(s store.Score) {
	e.raw(`{"value":`)
	// A score's value is whatever the metric produced (number, text, boolean, ...), and
	// scores are set by the judge worker and the API, not per span: encoding/json writes it.
	v, err := json.Marshal(s.Value)
	if err != nil {
		e.fail(err)
	}
	e.b = append(e.b, v...)
	if s.Passed != nil {
		e.raw(`,"passed":`)
		e.bool(*s.Passed)
	}
	e.omittableStr(`,"reason":`, s.Reason)
	e.raw(`,"source":`)
	e.str(s.Source)
	if s.Flag != nil {
		e.raw(`,"flag":`)
		e.flag(s.Flag)
	}
	e.raw(`}`)
}

func (e *jsonAppender) assembly(a *store.Assembly) {
	// Most fields are omitempty, so every field is written with a leading comma and the one
	// after '{' is dropped at the end (start_nanos is always written, so there is one).
	start := len(e.b)
	e.b = append(e.b, '{')
	e.omittableTrue(`,"root_seen":`, a.RootSeen)
	e.omittableInt(`,"name_start":`, a.NameStart)
	e.omittableTrue(`,"input_from_root":`, a.InputFromRoot)
	e.omittableTrue(`,"output_from_root":`, a.OutputFromRoot)
	e.omittableInt(`,"first_llm_start":`, a.FirstLLMStart)
	e.omittableInt(`,"last_llm_end":`, a.LastLLMEnd)
	e.omittableTrue(`,"has_llm_input":`, a.HasLLMInput)
	e.omittableTrue(`,"has_llm_output":`, a.HasLLMOutput)
	e.raw(`,"start_nanos":`)
	e.int(a.StartNanos)
	e.raw(`,"end_nanos":`)
	e.int(a.EndNanos)
	e.omittableStr(`,"input_messages":`, a.InputMessages)
	e.omittableStr(`,"output_messages":`, a.OutputMessages)
	e.omittableInt(`,"in_msg_start":`, a.InMsgStart)
	e.omittableInt(`,"out_msg_end":`, a.OutMsgEnd)
	e.omittableStr(`,"in_msg_span":`, a.InMsgSpan)
	e.omittableStr(`,"out_msg_span":`, a.OutMsgSpan)
	if a.DocID != 0 {
		e.raw(`,"doc_id":`)
		e.b = strconv.AppendUint(e.b, a.DocID, 10)
	}
	if len(a.Calls) > 0 {
		e.raw(`,"calls":`)
		appendObject(e, a.Calls, e.callPart)
	}
	if len(a.CountedModels) > 0 {
		e.raw(`,"counted_models":`)
		appendObject(e, a.CountedModels, func(n int) { e.int(int64(n)) })
	}
	e.omittableInt(`,"unknown_cost_calls":`, int64(a.UnknownCostCalls))
	e.b = append(e.b, '}')
	e.b = append(e.b[:start+1], e.b[start+2:]...)
}

func (e *jsonAppender) callPart(c *store.CallPart) {
	if c == nil {
		e.raw("null")
		return
	}
	start := len(e.b)
	e.b = append(e.b, '{')
	e.omittableStr(`,"parent":`, c.Parent)
	e.raw(`,"usage":`)
	e.usage(&c.Usage)
	if c.CostUSD != 0 {
		e.raw(`,"cost":`)
		e.float(c.CostUSD)
	}
	e.omittableTrue(`,"cost_unknown":`, c.CostUnknown)
	e.omittableStr(`,"model":`, c.Model)
	e.omittableTrue(`,"counted":`, c.Counted)
	e.omittableInt(`,"call_children":`, int64(c.CallKids))
	e.b = append(e.b, '}')
	e.b = append(e.b[:start+1], e.b[start+2:]...) // usage is always written: drop its comma
}

func (e *jsonAppender) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
