package store

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Span is one stored span: the fields records are assembled from, plus the span itself
// in OTLP protobuf form (Raw) so that nothing the client sent is lost.
type Span struct {
	Project       string
	TraceID       pcommon.TraceID
	SpanID        pcommon.SpanID
	ParentSpanID  pcommon.SpanID
	Name          string
	Kind          string
	Service       string
	Start         int64
	End           int64
	StatusError   bool
	StatusMessage string
	Source        string
	LLMCall       bool
	Input         string
	Output        string
	Model         string
	Usage         Usage
	CostUSD       float64
	CostUnknown   bool
	RunID         string
	TestcaseID    string
	Expected      string
	UserID        string
	SessionID     string
	Metadata      map[string]string
	Flags         []llmschema.Flag
	// InputMessages and OutputMessages are the raw gen_ai.input/output.messages JSON.
	InputMessages  string
	OutputMessages string
	// Raw is a ptrace.Traces holding just this span with its resource and scope, as OTLP protobuf.
	Raw []byte
}

// IsRoot reports whether the span has no parent.
func (s *Span) IsRoot() bool { return s.ParentSpanID.IsEmpty() }

// TraceIDHex is the lower-case hex trace ID.
func (s *Span) TraceIDHex() string { return hex.EncodeToString(s.TraceID[:]) }

// SpanIDHex is the lower-case hex span ID.
func (s *Span) SpanIDHex() string { return hex.EncodeToString(s.SpanID[:]) }

// ParentSpanIDHex is the lower-case hex parent span ID, or "" for a root span.
func (s *Span) ParentSpanIDHex() string {
	if s.ParentSpanID.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(s.ParentSpanID[:])
}

var rawMarshaler = &ptrace.ProtoMarshaler{}
var rawUnmarshaler = &ptrace.ProtoUnmarshaler{}

// FromPData builds a Span from a pdata span and the resource and scope it came with.
// The canonical attributes written by llmextract are read in one pass over the attributes.
// project is the authenticated project; when it is empty the span's tracehound.project.id
// (stamped by llmextract from the authenticated request) is used; if that is absent too,
// Project stays empty and the caller picks its default.
func FromPData(project string, res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) (Span, error) {
	s := fromPData(project, res, span)
	td := ptrace.NewTraces()
	appendAlone(td, res, scope, span)
	raw, err := rawMarshaler.MarshalTraces(td)
	if err != nil {
		return Span{}, fmt.Errorf("encode span %s: %w", s.SpanIDHex(), err)
	}
	s.Raw = raw
	return s, nil
}

// fromPData reads the fields of a span without encoding it.
func fromPData(project string, res pcommon.Resource, span ptrace.Span) Span {
	s := Span{
		Project:       project,
		TraceID:       span.TraceID(),
		SpanID:        span.SpanID(),
		ParentSpanID:  span.ParentSpanID(),
		Name:          span.Name(),
		Start:         int64(span.StartTimestamp()),
		End:           int64(span.EndTimestamp()),
		StatusError:   span.Status().Code() == ptrace.StatusCodeError,
		StatusMessage: span.Status().Message(),
	}
	if s.End < s.Start {
		s.End = s.Start
	}
	if v, ok := res.Attributes().Get(llmschema.ServiceName); ok {
		s.Service = v.AsString()
	}
	if claimed := readCanonical(&s, span.Attributes()); s.Project == "" {
		s.Project = claimed
	}
	return s
}

// DecodeSpan rebuilds a Span from its Raw form, as stored.
func DecodeSpan(project string, raw []byte) (Span, ptrace.Traces, error) {
	td, err := rawUnmarshaler.UnmarshalTraces(raw)
	if err != nil {
		return Span{}, td, fmt.Errorf("decode stored span: %w", err)
	}
	if td.ResourceSpans().Len() != 1 || td.ResourceSpans().At(0).ScopeSpans().Len() != 1 ||
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().Len() != 1 {
		return Span{}, td, fmt.Errorf("decode stored span: want exactly one span")
	}
	rs := td.ResourceSpans().At(0)
	ss := rs.ScopeSpans().At(0)
	s := fromPData(project, rs.Resource(), ss.Spans().At(0))
	s.Raw = raw
	return s, td, nil
}

// readCanonical copies the canonical attributes into s and returns the span's project attribute.
func readCanonical(s *Span, attrs pcommon.Map) (project string) {
	var requestModel, responseModel string
	hasKind, hasLLMCall := false, false
	var opName string
	attrs.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case llmschema.SpanKind:
			s.Kind, hasKind = v.AsString(), true
		case llmschema.LLMCall:
			s.LLMCall, hasLLMCall = v.Bool(), true
		case llmschema.Input:
			s.Input = v.AsString()
		case llmschema.Output:
			s.Output = v.AsString()
		case llmschema.InputMessages:
			s.InputMessages = v.AsString()
		case llmschema.OutputMessages:
			s.OutputMessages = v.AsString()
		case llmschema.RequestModel:
			requestModel = v.AsString()
		case llmschema.ResponseModel:
			responseModel = v.AsString()
		case llmschema.OperationName:
			opName = v.AsString()
		case llmschema.UsageInputTokens:
			s.Usage.Input = intValue(v)
		case llmschema.UsageOutputTokens:
			s.Usage.Output = intValue(v)
		case llmschema.UsageCacheRead:
			s.Usage.CacheRead = intValue(v)
		case llmschema.UsageCacheCreation:
			s.Usage.CacheWrite = intValue(v)
		case llmschema.CostUSD:
			s.CostUSD = floatValue(v)
		case llmschema.PriceUnknown:
			s.CostUnknown = v.Bool()
		case llmschema.RunID:
			s.RunID = v.AsString()
		case llmschema.TestcaseID:
			s.TestcaseID = v.AsString()
		case llmschema.Expected:
			s.Expected = v.AsString()
		case llmschema.UserID:
			s.UserID = v.AsString()
		case llmschema.SessionID:
			s.SessionID = v.AsString()
		case llmschema.Source:
			s.Source = v.AsString()
		case llmschema.ProjectID:
			project = v.AsString()
		case llmschema.Flags:
			var flags []llmschema.Flag
			if json.Unmarshal([]byte(v.AsString()), &flags) == nil {
				s.Flags = flags
			}
		default:
			if key, ok := strings.CutPrefix(k, llmschema.MetadataPrefix); ok && key != "" {
				if s.Metadata == nil {
					s.Metadata = map[string]string{}
				}
				s.Metadata[key] = v.AsString()
			}
		}
		return true
	})
	s.Usage.Total = s.Usage.Input + s.Usage.Output
	s.Model = responseModel
	if s.Model == "" {
		s.Model = requestModel
	}
	if !hasKind {
		// llmextract did not run: recognise plain GenAI semconv model calls so that a
		// pipeline without it still counts them.
		switch opName {
		case "chat", "text_completion", "generate_content":
			s.Kind = llmschema.SpanKindLLM
		case "embeddings":
			s.Kind = llmschema.SpanKindEmbedding
		default:
			s.Kind = llmschema.SpanKindOther
		}
	}
	if !hasLLMCall && !hasKind {
		s.LLMCall = s.Kind == llmschema.SpanKindLLM || s.Kind == llmschema.SpanKindEmbedding
	}
	return project
}

func intValue(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	case pcommon.ValueTypeStr:
		var n int64
		if _, err := fmt.Sscan(v.Str(), &n); err == nil {
			return n
		}
	}
	return 0
}

func floatValue(v pcommon.Value) float64 {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	case pcommon.ValueTypeStr:
		var f float64
		if _, err := fmt.Sscan(v.Str(), &f); err == nil {
			return f
		}
	}
	return 0
}
