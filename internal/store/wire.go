package store

import (
	"encoding/binary"
	"math"
	"math/bits"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// A span is stored as the OTLP encoding of a TracesData holding just that span with its
// resource and scope: what pdata's marshaler makes of a copy of the three in a batch of their
// own (appendAlone). spanWriter makes the same bytes straight from the span in the batch it
// came in, with no copy and no buffer of its own: it writes the encoding back to front, in
// the order pdata's generated marshalers do, so a message's length is known when its tag and
// length are written and the bytes are pdata's, byte for byte (stored spans do not change;
// batch_test.go holds the two together on varied and fuzzed batches).
//
// pdata's size functions say how long each part must come out. A part that comes out of
// another length holds something this writer cannot see through pdata's API (resource entity
// references, profile string-table indexes) and the span is encoded by pdata instead.

// spanWriter writes protobuf back to front into buf, ending at len(buf). When a write does
// not fit, short is set and nothing more is written.
type spanWriter struct {
	buf   []byte
	pos   int
	short bool
	// kvs holds the entries of the maps being written, so that they can be written last to
	// first; each map's entries sit above those of the maps that contain it.
	kvs []mapEntry
}

type mapEntry struct {
	key string
	val pcommon.Value
}

func (w *spanWriter) reset(buf []byte) {
	w.buf, w.pos, w.short = buf, len(buf), false
}

func (w *spanWriter) room(n int) bool {
	if w.short || w.pos < n {
		w.short = true
		return false
	}
	return true
}

func (w *spanWriter) byte1(b byte) {
	if w.room(1) {
		w.pos--
		w.buf[w.pos] = b
	}
}

// tag2 writes a two-byte tag (field numbers 16 to 2047), low byte first on the wire.
func (w *spanWriter) tag2(lo, hi byte) {
	w.byte1(hi)
	w.byte1(lo)
}

func (w *spanWriter) varint(v uint64) {
	n := varintLen(v)
	if !w.room(n) {
		return
	}
	w.pos -= n
	binary.PutUvarint(w.buf[w.pos:], v)
}

func (w *spanWriter) fixed64(v uint64) {
	if w.room(8) {
		w.pos -= 8
		binary.LittleEndian.PutUint64(w.buf[w.pos:], v)
	}
}

func (w *spanWriter) fixed32(v uint32) {
	if w.room(4) {
		w.pos -= 4
		binary.LittleEndian.PutUint32(w.buf[w.pos:], v)
	}
}

func (w *spanWriter) raw(b []byte) {
	if w.room(len(b)) {
		w.pos -= len(b)
		copy(w.buf[w.pos:], b)
	}
}

func (w *spanWriter) str(s string) {
	if w.room(len(s)) {
		w.pos -= len(s)
		copy(w.buf[w.pos:], s)
	}
}

// frame writes the tag and length of the message whose last byte is at end (a w.pos taken
// before its fields were written).
func (w *spanWriter) frame(tag byte, end int) {
	w.varint(uint64(end - w.pos))
	w.byte1(tag)
}

// strField writes a string field; pdata leaves empty ones out.
func (w *spanWriter) strField(tag byte, s string) {
	if s != "" {
		end := w.pos
		w.str(s)
		w.frame(tag, end)
	}
}

// uintField writes a varint field; pdata leaves zero ones out.
func (w *spanWriter) uintField(tag byte, v uint64) {
	if v != 0 {
		w.varint(v)
		w.byte1(tag)
	}
}

// idField writes a trace or span ID: always present, empty when the ID is all zeros.
func (w *spanWriter) idField(tag byte, id []byte) {
	end := w.pos
	if !allZero(id) {
		w.raw(id)
	}
	w.frame(tag, end)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// attributes writes the entries of m, each a KeyValue field with tag.
func (w *spanWriter) attributes(tag byte, m pcommon.Map) {
	base := len(w.kvs)
	for k, v := range m.All() {
		w.kvs = append(w.kvs, mapEntry{k, v})
	}
	for i := len(w.kvs) - 1; i >= base; i-- {
		e := w.kvs[i] // w.kvs may grow (and move) while a nested map is written
		end := w.pos
		w.strField(0x0a, e.key)
		vend := w.pos
		w.value(e.val)
		w.frame(0x12, vend)
		w.frame(tag, end)
	}
	w.kvs = w.kvs[:base]
}

// value writes the fields of an AnyValue.
func (w *spanWriter) value(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		end := w.pos
		w.str(v.Str())
		w.frame(0x0a, end)
	case pcommon.ValueTypeBool:
		b := byte(0)
		if v.Bool() {
			b = 1
		}
		w.byte1(b)
		w.byte1(0x10)
	case pcommon.ValueTypeInt:
		w.varint(uint64(v.Int()))
		w.byte1(0x18)
	case pcommon.ValueTypeDouble:
		w.fixed64(math.Float64bits(v.Double()))
		w.byte1(0x21)
	case pcommon.ValueTypeSlice:
		end := w.pos
		s := v.Slice()
		for i := s.Len() - 1; i >= 0; i-- {
			vend := w.pos
			w.value(s.At(i))
			w.frame(0x0a, vend)
		}
		w.frame(0x2a, end)
	case pcommon.ValueTypeMap:
		end := w.pos
		w.attributes(0x0a, v.Map())
		w.frame(0x32, end)
	case pcommon.ValueTypeBytes:
		end := w.pos
		w.raw(v.Bytes().AsRaw())
		w.frame(0x3a, end)
	}
}

// The functions below write a message's fields in the order of pdata's generated marshaler
// for it (which, writing back to front, puts the first of them last on the wire).

// resource writes the fields of a Resource.
func (w *spanWriter) resource(r pcommon.Resource) {
	w.attributes(0x0a, r.Attributes())
	w.uintField(0x10, uint64(r.DroppedAttributesCount()))
}

// scope writes the fields of an InstrumentationScope.
func (w *spanWriter) scope(s pcommon.InstrumentationScope) {
	w.strField(0x0a, s.Name())
	w.strField(0x12, s.Version())
	w.attributes(0x1a, s.Attributes())
	w.uintField(0x20, uint64(s.DroppedAttributesCount()))
}

// span writes the fields of a Span.
func (w *spanWriter) span(sp ptrace.Span) {
	tid, sid, pid := sp.TraceID(), sp.SpanID(), sp.ParentSpanID()
	w.idField(0x0a, tid[:])
	w.idField(0x12, sid[:])
	w.strField(0x1a, sp.TraceState().AsRaw())
	w.idField(0x22, pid[:])
	if f := sp.Flags(); f != 0 {
		w.fixed32(f)
		w.tag2(0x85, 0x01) // field 16, fixed32
	}
	w.strField(0x2a, sp.Name())
	w.uintField(0x30, uint64(sp.Kind()))
	w.fixed64Field(0x39, uint64(sp.StartTimestamp()))
	w.fixed64Field(0x41, uint64(sp.EndTimestamp()))
	w.attributes(0x4a, sp.Attributes())
	w.uintField(0x50, uint64(sp.DroppedAttributesCount()))
	events := sp.Events()
	for i := events.Len() - 1; i >= 0; i-- {
		e := events.At(i)
		end := w.pos
		w.fixed64Field(0x09, uint64(e.Timestamp()))
		w.strField(0x12, e.Name())
		w.attributes(0x1a, e.Attributes())
		w.uintField(0x20, uint64(e.DroppedAttributesCount()))
		w.frame(0x5a, end)
	}
	w.uintField(0x60, uint64(sp.DroppedEventsCount()))
	links := sp.Links()
	for i := links.Len() - 1; i >= 0; i-- {
		l := links.At(i)
		end := w.pos
		ltid, lsid := l.TraceID(), l.SpanID()
		w.idField(0x0a, ltid[:])
		w.idField(0x12, lsid[:])
		w.strField(0x1a, l.TraceState().AsRaw())
		w.attributes(0x22, l.Attributes())
		w.uintField(0x28, uint64(l.DroppedAttributesCount()))
		if f := l.Flags(); f != 0 {
			w.fixed32(f)
			w.byte1(0x35)
		}
		w.frame(0x6a, end)
	}
	w.uintField(0x70, uint64(sp.DroppedLinksCount()))
	st := sp.Status()
	end := w.pos
	w.strField(0x12, st.Message())
	w.uintField(0x18, uint64(st.Code()))
	w.frame(0x7a, end)
}

// fixed64Field writes a fixed64 field; pdata leaves zero ones out.
func (w *spanWriter) fixed64Field(tag byte, v uint64) {
	if v != 0 {
		w.fixed64(v)
		w.byte1(tag)
	}
}

func varintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// framedLen is the length of a length-delimited field with a one-byte tag and n bytes of content.
func framedLen(n int) int { return 1 + varintLen(uint64(n)) + n }

// SpanStringAttr reads the span attribute key of a stored span's Raw form without decoding
// the span, for a fraction of DecodeSpan's work (the test-case export reads two message lists
// per record). ok is true only when the answer is what DecodeSpan gives: raw has the shape
// of a stored span and the key's last entry is a string. Otherwise (absent, another type,
// malformed) the caller decodes the span.
func SpanStringAttr(raw []byte, key string) (val string, ok bool) {
	// TracesData.resource_spans(1) → ResourceSpans.scope_spans(2) → ScopeSpans.spans(2),
	// exactly one of each, as DecodeSpan requires.
	span, ok := onlyField(raw, 1)
	if ok {
		span, ok = onlyField(span, 2)
	}
	if ok {
		span, ok = onlyField(span, 2)
	}
	if !ok {
		return "", false
	}
	ok = false
	wellFormed := eachField(span, func(num protowire.Number, typ protowire.Type, kv []byte) bool {
		if num != 9 { // Span.attributes
			return true
		}
		var k string
		var v []byte
		hasV := false
		if typ != protowire.BytesType || !eachField(kv, func(num protowire.Number, typ protowire.Type, b []byte) bool {
			switch num {
			case 1:
				k = string(b)
			case 2:
				v, hasV = b, true
			}
			return (num != 1 && num != 2) || typ == protowire.BytesType
		}) {
			return false
		}
		if k != key {
			return true
		}
		// The last entry of the key wins (pdata keeps duplicates; a reader ranging over the
		// map keeps the last), and within an AnyValue the last field of its oneof.
		val, ok = "", false
		return !hasV || eachField(v, func(num protowire.Number, typ protowire.Type, b []byte) bool {
			val, ok = string(b), num == 1 && typ == protowire.BytesType // string_value
			return true
		})
	})
	return val, ok && wellFormed
}

// onlyField is the content of the one length-delimited field num of message b; false when
// there is none, more than one, one of another wire type, or b is malformed.
func onlyField(b []byte, num protowire.Number) (content []byte, ok bool) {
	n := 0
	if !eachField(b, func(f protowire.Number, typ protowire.Type, c []byte) bool {
		if f == num {
			content = c
			n++
			return typ == protowire.BytesType
		}
		return true
	}) {
		return nil, false
	}
	return content, n == 1
}

// eachField calls fn with every field of message b (with the content of length-delimited
// ones) until fn returns false; it reports false when b is malformed or fn stopped.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, content []byte) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		var content []byte
		if typ == protowire.BytesType {
			content, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
		if !fn(num, typ, content) {
			return false
		}
	}
	return true
}
