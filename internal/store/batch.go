package store

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// FromTraces converts the spans of a batch for which keep returns true, in order. The batch
// is encoded once and each span's Raw form (its resource, scope and itself) is cut out of
// that encoding, instead of copying every span into a batch of its own to encode it as
// FromPData does; the result is the same.
func FromTraces(project string, td ptrace.Traces, keep func(ptrace.Span) bool) ([]Span, error) {
	wire, err := rawMarshaler.MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("encode spans: %w", err)
	}
	out := make([]Span, 0, td.SpanCount())
	seen := 0
	rss := td.ResourceSpans()
	err = eachField(wire, 1, func(rsWire []byte, i int) error {
		if i >= rss.Len() {
			return errWireMismatch
		}
		rs := rss.At(i)
		resource := lastField(rsWire, 1)
		sss := rs.ScopeSpans()
		return eachField(rsWire, 2, func(ssWire []byte, j int) error {
			if j >= sss.Len() {
				return errWireMismatch
			}
			ss := sss.At(j)
			scope := lastField(ssWire, 1)
			spans := ss.Spans()
			return eachField(ssWire, 2, func(spanWire []byte, k int) error {
				if k >= spans.Len() {
					return errWireMismatch
				}
				span := spans.At(k)
				seen++
				if !keep(span) {
					return nil
				}
				s := fromPData(project, rs.Resource(), span)
				s.Raw = oneSpanWire(resource, scope, spanWire)
				out = append(out, s)
				return nil
			})
		})
	})
	if err == nil && seen != td.SpanCount() {
		err = errWireMismatch
	}
	if err != nil {
		return nil, fmt.Errorf("split encoded spans: %w", err)
	}
	return out, nil
}

var errWireMismatch = errors.New("encoding does not match the batch")

// eachField calls fn with the payload of every length-delimited field num of msg, counting
// them from 0.
func eachField(msg []byte, num protowire.Number, fn func(payload []byte, i int) error) error {
	i := 0
	for len(msg) > 0 {
		n, typ, tl := protowire.ConsumeTag(msg)
		if tl < 0 {
			return protowire.ParseError(tl)
		}
		msg = msg[tl:]
		if n == num && typ == protowire.BytesType {
			v, vl := protowire.ConsumeBytes(msg)
			if vl < 0 {
				return protowire.ParseError(vl)
			}
			if err := fn(v, i); err != nil {
				return err
			}
			i++
			msg = msg[vl:]
			continue
		}
		vl := protowire.ConsumeFieldValue(n, typ, msg)
		if vl < 0 {
			return protowire.ParseError(vl)
		}
		msg = msg[vl:]
	}
	return nil
}

// lastField is the payload of the length-delimited field num of msg (nil when absent).
func lastField(msg []byte, num protowire.Number) []byte {
	var out []byte
	_ = eachField(msg, num, func(p []byte, _ int) error { out = p; return nil })
	return out
}

// oneSpanWire encodes TracesData{resource_spans: [{resource, scope_spans: [{scope, spans:
// [span]}]}]} from the encoded resource, scope and span.
func oneSpanWire(resource, scope, span []byte) []byte {
	field := func(payload []byte) int { return protowire.SizeTag(1) + protowire.SizeBytes(len(payload)) }
	ssLen := field(span)
	if scope != nil {
		ssLen += field(scope)
	}
	rsLen := protowire.SizeTag(2) + protowire.SizeBytes(ssLen)
	if resource != nil {
		rsLen += field(resource)
	}
	b := make([]byte, 0, protowire.SizeTag(1)+protowire.SizeBytes(rsLen))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // TracesData.resource_spans
	b = protowire.AppendVarint(b, uint64(rsLen))
	if resource != nil {
		b = protowire.AppendTag(b, 1, protowire.BytesType) // ResourceSpans.resource
		b = protowire.AppendBytes(b, resource)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType) // ResourceSpans.scope_spans
	b = protowire.AppendVarint(b, uint64(ssLen))
	if scope != nil {
		b = protowire.AppendTag(b, 1, protowire.BytesType) // ScopeSpans.scope
		b = protowire.AppendBytes(b, scope)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType) // ScopeSpans.spans
	return protowire.AppendBytes(b, span)
}
