package store

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// FromTraces converts the spans of td for which keep returns true, in order, into what
// FromPData gives for each of them. It costs less than FromPData per span: instead of a
// batch of its own for every span, each encoded on its own (an allocation per span, and the
// size pass and buffer set up for each), the spans are copied into one batch with a
// ResourceSpans per span, which is encoded once.
//
// The Raw forms share that encoding; each is capped at its own end, so appending to one
// does not overwrite the next.
func FromTraces(project string, td ptrace.Traces, keep func(ptrace.Span) bool) ([]Span, error) {
	spans := make([]Span, 0, td.SpanCount())
	alone := ptrace.NewTraces()
	alone.ResourceSpans().EnsureCapacity(td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				span := ss.Spans().At(k)
				if keep(span) {
					spans = append(spans, fromPData(project, rs.Resource(), span))
					appendAlone(alone, rs.Resource(), ss.Scope(), span)
				}
			}
		}
	}
	wire, err := rawMarshaler.MarshalTraces(alone)
	if err != nil {
		return nil, fmt.Errorf("encode %d spans: %w", len(spans), err)
	}
	for i := range spans {
		if spans[i].Raw, wire, err = cutResourceSpans(wire); err != nil {
			return nil, fmt.Errorf("split encoded spans at span %s: %w", spans[i].SpanIDHex(), err)
		}
	}
	if len(wire) > 0 {
		return nil, fmt.Errorf("split encoded spans: %w", errWireMismatch)
	}
	return spans, nil
}

// appendAlone adds span to td in a ResourceSpans and ScopeSpans of its own, with copies of
// its resource and scope. Schema URLs are not carried over.
func appendAlone(td ptrace.Traces, res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) {
	rs := td.ResourceSpans().AppendEmpty()
	res.CopyTo(rs.Resource())
	ss := rs.ScopeSpans().AppendEmpty()
	scope.CopyTo(ss.Scope())
	span.CopyTo(ss.Spans().AppendEmpty())
}

// errWireMismatch means an encoding does not have the shape of the batch it was made from,
// which would be a bug in the encoder or here.
var errWireMismatch = errors.New("encoding does not match the batch")

// tracesDataResourceSpans is the field number of TracesData.resource_spans.
const tracesDataResourceSpans protowire.Number = 1

// cutResourceSpans cuts the first field, a ResourceSpans, off encoded TracesData. With its
// tag and length the field is TracesData of its own, holding just that ResourceSpans.
func cutResourceSpans(wire []byte) (field, rest []byte, err error) {
	num, typ, n := protowire.ConsumeField(wire)
	if n < 0 {
		return nil, nil, protowire.ParseError(n)
	}
	if num != tracesDataResourceSpans || typ != protowire.BytesType {
		return nil, nil, errWireMismatch
	}
	return wire[:n:n], wire[n:], nil
}
