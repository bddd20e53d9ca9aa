package store

import (
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// FromTraces converts the spans of td for which keep returns true, in order, into what
// FromPData gives for each of them, for less: the Raw forms are written by spanWriter
// straight from td into one buffer (no copy of each span into a batch of its own, no
// allocation per span). Each Raw is capped at its own end, so appending to one does not
// overwrite the next.
func FromTraces(project string, td ptrace.Traces, keep func(ptrace.Span) bool) ([]Span, error) {
	spans, _, err := fromTraces(project, td, keep, nil)
	return spans, err
}

// EncodedBatch is the spans of a batch with their Raw forms in a pooled buffer.
type EncodedBatch struct {
	Spans []Span
	buf   *[]byte
}

// Release gives the Raw forms' buffer back for another batch: no Raw of Spans may be read
// after it. Call it only once the spans are written, WriteSpans having returned nil (a store
// that gave up waiting, or failed, may still hold them).
func (b *EncodedBatch) Release() {
	if b.buf != nil && cap(*b.buf) <= maxPooledRaw {
		rawBuffers.Put(b.buf)
	}
	b.buf, b.Spans = nil, nil
}

// FromTracesPooled is FromTraces with the Raw forms in a buffer that Release recycles.
func FromTracesPooled(project string, td ptrace.Traces, keep func(ptrace.Span) bool) (*EncodedBatch, error) {
	bp := rawBuffers.Get().(*[]byte)
	spans, buf, err := fromTraces(project, td, keep, *bp)
	*bp = buf
	b := &EncodedBatch{Spans: spans, buf: bp}
	if err != nil {
		b.Release()
		return nil, err
	}
	return b, nil
}

// rawBuffers holds buffers of Raw forms; a batch's is about its size in OTLP.
var rawBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledRaw = 8 << 20

// wirePart is a kept span and the pdata-given sizes of the parts of its stored form.
type wirePart struct {
	span                  ptrace.Span
	res                   pcommon.Resource
	scope                 pcommon.InstrumentationScope
	resLen, scopeLen, len int // contents of the Resource, InstrumentationScope and Span
	at                    int // offset of the stored form in the buffer; -1: encode with pdata
}

// stored is the length of the part's stored form: TracesData{ResourceSpans{Resource,
// ScopeSpans{Scope, Span}}}.
func (p *wirePart) stored() int {
	return framedLen(framedLen(framedLen(p.len)+framedLen(p.scopeLen)) + framedLen(p.resLen))
}

// fromTraces does FromTraces, with the Raw forms in buf (reallocated when too small, and
// returned).
func fromTraces(project string, td ptrace.Traces, keep func(ptrace.Span) bool, buf []byte) ([]Span, []byte, error) {
	spans := make([]Span, 0, td.SpanCount())
	parts := make([]wirePart, 0, td.SpanCount())
	total := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// The resource's length is what pdata counts for the ResourceSpans less its other
		// fields; likewise the scope's. -1 when that does not add up.
		resRest := rawMarshaler.ResourceSpansSize(rs) - framedStr(rs.SchemaUrl())
		first := len(parts)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			ssLen := rawMarshaler.ScopeSpansSize(ss)
			resRest -= framedLen(ssLen)
			scopeLen := ssLen - framedStr(ss.SchemaUrl())
			firstInScope := len(parts)
			for k := 0; k < ss.Spans().Len(); k++ {
				span := ss.Spans().At(k)
				n := rawMarshaler.SpanSize(span)
				scopeLen -= framedLen(n)
				if keep(span) {
					spans = append(spans, fromPData(project, rs.Resource(), span))
					parts = append(parts, wirePart{span: span, res: rs.Resource(), scope: ss.Scope(), len: n})
				}
			}
			scopeLen = unframe(scopeLen)
			for p := firstInScope; p < len(parts); p++ {
				parts[p].scopeLen = scopeLen
			}
		}
		resLen := unframe(resRest)
		for p := first; p < len(parts); p++ {
			parts[p].resLen = resLen
		}
	}
	for p := range parts {
		if parts[p].resLen < 0 || parts[p].scopeLen < 0 {
			parts[p].at = -1
			continue
		}
		parts[p].at = total
		total += parts[p].stored()
	}
	if cap(buf) < total {
		buf = make([]byte, total)
	}
	buf = buf[:total]
	w := spanWriter{}
	for p := range parts {
		part := &parts[p]
		if part.at >= 0 {
			end := part.at + part.stored()
			w.reset(buf[part.at:end])
			if w.storedForm(part) {
				spans[p].Raw = buf[part.at:end:end]
				continue
			}
		}
		// Something in the span that pdata's API does not show: let pdata encode it.
		alone := ptrace.NewTraces()
		appendAlone(alone, part.res, part.scope, part.span)
		raw, err := rawMarshaler.MarshalTraces(alone)
		if err != nil {
			return nil, buf, fmt.Errorf("encode span %s: %w", spans[p].SpanIDHex(), err)
		}
		spans[p].Raw = raw
	}
	return spans, buf, nil
}

// storedForm writes part's stored form, filling w's buffer exactly, and reports whether
// every piece came out as long as pdata says it is.
func (w *spanWriter) storedForm(part *wirePart) bool {
	// Back to front: the ResourceSpans ends with its Resource, the ScopeSpans with its Scope.
	rsEnd := w.pos
	w.resource(part.res)
	ok := rsEnd-w.pos == part.resLen
	w.frame(0x0a, rsEnd)
	ssEnd := w.pos
	w.scope(part.scope)
	ok = ok && ssEnd-w.pos == part.scopeLen
	w.frame(0x0a, ssEnd)
	spanEnd := w.pos
	w.span(part.span)
	ok = ok && spanEnd-w.pos == part.len
	w.frame(0x12, spanEnd)
	w.frame(0x12, ssEnd)
	w.frame(0x0a, rsEnd)
	return ok && !w.short && w.pos == 0
}

// framedStr is the length of a string field pdata writes (none when empty).
func framedStr(s string) int {
	if s == "" {
		return 0
	}
	return framedLen(len(s))
}

// unframe is the content length n of a field whose framed length is f (framedLen(n) == f),
// or -1 when there is none.
func unframe(f int) int {
	for n := max(f-11, 0); n <= f-2; n++ {
		if framedLen(n) == f {
			return n
		}
	}
	return -1
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
