package recordsexporter

import (
	"encoding/json"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// recordDetail is GET /api/v1/records/{id}: the record plus its span tree, timeline and
// conversation.
type recordDetail struct {
	*store.Record
	Spans        []*spanNode         `json:"spans"`
	Timeline     []timelineEntry     `json:"timeline"`
	Conversation []conversationEntry `json:"conversation"`
}

type spanNode struct {
	SpanID        string           `json:"span_id"`
	ParentSpanID  string           `json:"parent_span_id,omitempty"`
	Name          string           `json:"name"`
	Kind          string           `json:"kind"`
	Service       string           `json:"service"`
	Start         time.Time        `json:"start"`
	End           time.Time        `json:"end"`
	OffsetMS      float64          `json:"offset_ms"`
	DurationMS    float64          `json:"duration_ms"`
	Status        string           `json:"status"`
	StatusMessage string           `json:"status_message,omitempty"`
	LLMCall       bool             `json:"llm_call"`
	Model         string           `json:"model,omitempty"`
	Input         string           `json:"input,omitempty"`
	Output        string           `json:"output,omitempty"`
	Usage         *store.Usage     `json:"usage,omitempty"`
	CostUSD       float64          `json:"cost_usd,omitempty"`
	Flags         []llmschema.Flag `json:"flags,omitempty"`
	Attributes    map[string]any   `json:"attributes"`
	Resource      map[string]any   `json:"resource"`
	Events        []spanEvent      `json:"events,omitempty"`
	Children      []*spanNode      `json:"children"`
}

type spanEvent struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type timelineEntry struct {
	SpanID       string  `json:"span_id"`
	ParentSpanID string  `json:"parent_span_id,omitempty"`
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	Depth        int     `json:"depth"`
	OffsetMS     float64 `json:"offset_ms"`
	DurationMS   float64 `json:"duration_ms"`
	Status       string  `json:"status"`
}

type conversationEntry struct {
	llmschema.Message
	SpanID string `json:"span_id"`
}

func buildDetail(rec *store.Record, spans []store.Span) (*recordDetail, error) {
	d := &recordDetail{Record: rec, Spans: []*spanNode{}, Timeline: []timelineEntry{}, Conversation: []conversationEntry{}}
	nodes := make(map[string]*spanNode, len(spans))
	order := make([]*spanNode, 0, len(spans))
	var convSpan *spanNode
	var convIn, convOut []llmschema.Message
	for i := range spans {
		sp := &spans[i]
		_, td, err := store.DecodeSpan(sp.Project, sp.Raw)
		if err != nil {
			return nil, err
		}
		rs := td.ResourceSpans().At(0)
		ps := rs.ScopeSpans().At(0).Spans().At(0)
		n := &spanNode{
			SpanID:        sp.SpanIDHex(),
			ParentSpanID:  sp.ParentSpanIDHex(),
			Name:          sp.Name,
			Kind:          sp.Kind,
			Service:       sp.Service,
			Start:         time.Unix(0, sp.Start).UTC(),
			End:           time.Unix(0, sp.End).UTC(),
			OffsetMS:      float64(sp.Start-rec.Assembly.StartNanos) / 1e6,
			DurationMS:    float64(sp.End-sp.Start) / 1e6,
			Status:        spanStatus(ps),
			StatusMessage: sp.StatusMessage,
			LLMCall:       sp.LLMCall,
			Model:         sp.Model,
			Input:         sp.Input,
			Output:        sp.Output,
			CostUSD:       sp.CostUSD,
			Flags:         sp.Flags,
			Attributes:    ps.Attributes().AsRaw(),
			Resource:      rs.Resource().Attributes().AsRaw(),
			Children:      []*spanNode{},
		}
		if sp.Usage != (store.Usage{}) {
			u := sp.Usage
			n.Usage = &u
		}
		for e := 0; e < ps.Events().Len(); e++ {
			ev := ps.Events().At(e)
			n.Events = append(n.Events, spanEvent{Name: ev.Name(), Time: ev.Timestamp().AsTime().UTC(), Attributes: ev.Attributes().AsRaw()})
		}
		nodes[n.SpanID] = n
		order = append(order, n)

		// The conversation is the LLM call that saw the most history, plus its answer.
		if sp.LLMCall {
			in := parseMessages(ps, llmschema.InputMessages)
			if convSpan == nil || len(in) >= len(convIn) {
				convSpan, convIn, convOut = n, in, parseMessages(ps, llmschema.OutputMessages)
			}
		}
	}
	for _, n := range order {
		if p, ok := nodes[n.ParentSpanID]; ok && n.ParentSpanID != "" && p != n {
			p.Children = append(p.Children, n)
		} else {
			// Roots, and spans whose parent has not arrived (yet).
			d.Spans = append(d.Spans, n)
		}
	}
	var walk func(n *spanNode, depth int)
	walk = func(n *spanNode, depth int) {
		d.Timeline = append(d.Timeline, timelineEntry{
			SpanID: n.SpanID, ParentSpanID: n.ParentSpanID, Name: n.Name, Kind: n.Kind,
			Depth: depth, OffsetMS: n.OffsetMS, DurationMS: n.DurationMS, Status: n.Status,
		})
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	for _, n := range d.Spans {
		walk(n, 0)
	}
	if convSpan != nil {
		for _, m := range append(convIn, convOut...) {
			d.Conversation = append(d.Conversation, conversationEntry{Message: m, SpanID: convSpan.SpanID})
		}
	}
	return d, nil
}

func spanStatus(s ptrace.Span) string {
	if s.Status().Code() == ptrace.StatusCodeError {
		return store.StatusError
	}
	return store.StatusOK
}

func parseMessages(s ptrace.Span, key string) []llmschema.Message {
	v, ok := s.Attributes().Get(key)
	if !ok {
		return nil
	}
	var msgs []llmschema.Message
	if json.Unmarshal([]byte(v.AsString()), &msgs) != nil {
		return nil
	}
	return msgs
}
