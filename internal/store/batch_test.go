package store

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

func hasIDs(sp ptrace.Span) bool { return !sp.TraceID().IsEmpty() && !sp.SpanID().IsEmpty() }

// fromPDataEach is what FromTraces replaces: FromPData for every kept span.
func fromPDataEach(t testing.TB, project string, td ptrace.Traces, keep func(ptrace.Span) bool) []Span {
	t.Helper()
	var out []Span
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				if !keep(ss.Spans().At(k)) {
					continue
				}
				s, err := FromPData(project, rs.Resource(), ss.Scope(), ss.Spans().At(k))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// requireSameSpans checks that FromTraces gives what FromPData gives for each span: Raw
// decodes to the same span with the same resource and scope (and is byte for byte the same,
// so stored spans do not change), and the other fields are equal.
func requireSameSpans(t *testing.T, td ptrace.Traces) {
	t.Helper()
	got, err := FromTraces("p1", td, hasIDs)
	if err != nil {
		t.Fatalf("FromTraces: %v", err)
	}
	want := fromPDataEach(t, "p1", td, hasIDs)
	if len(got) != len(want) {
		t.Fatalf("FromTraces gave %d spans, FromPData %d", len(got), len(want))
	}
	for i := range got {
		_, gotTD, err := DecodeSpan("p1", got[i].Raw)
		if err != nil {
			t.Fatalf("span %d: %v", i, err)
		}
		_, wantTD, err := DecodeSpan("p1", want[i].Raw)
		if err != nil {
			t.Fatalf("span %d, FromPData: %v", i, err)
		}
		if g, w := tracesJSON(t, gotTD), tracesJSON(t, wantTD); g != w {
			t.Fatalf("span %d decodes differently:\n got %s\nwant %s", i, g, w)
		}
		if !bytes.Equal(got[i].Raw, want[i].Raw) {
			t.Fatalf("span %d: Raw differs from FromPData's:\n got %x\nwant %x", i, got[i].Raw, want[i].Raw)
		}
		g, w := got[i], want[i]
		g.Raw, w.Raw = nil, nil
		if fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w) {
			t.Fatalf("span %d fields differ:\n got %#v\nwant %#v", i, g, w)
		}
	}
}

func tracesJSON(t *testing.T, td ptrace.Traces) string {
	t.Helper()
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// variedTraces is a batch of empty and full resources and scopes, schema URLs, events,
// links, large and non-ASCII attributes, many spans per scope and spans without IDs.
func variedTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 3 {
		rs := td.ResourceSpans().AppendEmpty()
		if r > 0 {
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprint("svc-", r))
			rs.Resource().SetDroppedAttributesCount(uint32(r))
			rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		}
		for s := range r + 1 {
			ss := rs.ScopeSpans().AppendEmpty()
			if s%2 == 1 {
				ss.Scope().SetName("scope")
				ss.Scope().SetVersion("1.0")
				ss.Scope().Attributes().PutInt("n", int64(s))
				ss.SetSchemaUrl("https://example.com/scope")
			}
			for k := range 12 * s {
				addVariedSpan(ss.Spans().AppendEmpty(), r, s, k)
			}
		}
	}
	return td
}

func addVariedSpan(sp ptrace.Span, r, s, k int) {
	if r == 2 && k == 0 {
		return // no IDs: dropped
	}
	sp.SetTraceID(pcommon.TraceID{byte(r + 1), 1})
	sp.SetSpanID(pcommon.SpanID{byte(r + 1), byte(s + 1), byte(k + 1)})
	if k > 0 {
		sp.SetParentSpanID(pcommon.SpanID{byte(r + 1), byte(s + 1), 1})
	}
	sp.SetName(fmt.Sprint("span ", r, s, k))
	sp.SetKind(ptrace.SpanKind(k % 6))
	sp.SetStartTimestamp(pcommon.Timestamp(1000 + k))
	sp.SetEndTimestamp(pcommon.Timestamp(2000 + k))
	sp.TraceState().FromRaw("k=v")
	if k%3 == 0 {
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage("failed")
	}
	a := sp.Attributes()
	a.PutStr("gen_ai.request.model", "gpt-4o")
	a.PutStr("tracehound.input", strings.Repeat("Grüße, world! ", k))
	a.PutInt("gen_ai.usage.input_tokens", int64(k))
	a.PutStr("tracehound.metadata.tier", "gold")
	a.PutEmptySlice("list").AppendEmpty().SetDouble(1.5)
	if k%2 == 0 {
		ev := sp.Events().AppendEmpty()
		ev.SetName("event")
		ev.Attributes().PutBool("ok", true)
		l := sp.Links().AppendEmpty()
		l.SetTraceID(pcommon.TraceID{9})
		l.SetSpanID(pcommon.SpanID{9})
	}
}

func TestFromTraces_SameAsFromPData(t *testing.T) {
	tests := []struct {
		name string
		td   func() ptrace.Traces
	}{
		{"empty batch", ptrace.NewTraces},
		{"bare span", func() ptrace.Traces {
			td := ptrace.NewTraces()
			sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			sp.SetTraceID(pcommon.TraceID{1})
			sp.SetSpanID(pcommon.SpanID{1})
			return td
		}},
		{"varied", variedTraces},
		{"fields pdata does not show", func() ptrace.Traces { return hiddenFieldsTraces(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireSameSpans(t, tt.td()) })
	}
}

// hiddenFieldsTraces is a batch whose resource has an entity reference and whose span has
// an attribute with a profile string-table key index: fields pdata keeps but does not show,
// which spanWriter cannot write. Those spans must come out as pdata encodes them.
func hiddenFieldsTraces(t *testing.T) ptrace.Traces {
	t.Helper()
	msg := func(fields ...[]byte) []byte { return bytes.Join(fields, nil) }
	bytesField := func(n protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, n, protowire.BytesType), b)
	}
	varintField := func(n protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, n, protowire.VarintType), v)
	}
	str := func(n protowire.Number, s string) []byte { return bytesField(n, []byte(s)) }
	kv := func(key, val string, extra ...[]byte) []byte {
		return msg(append([][]byte{str(1, key), bytesField(2, str(1, val))}, extra...)...)
	}
	span := func(id byte, attrs ...[]byte) []byte {
		fields := [][]byte{bytesField(1, bytes.Repeat([]byte{7}, 16)), bytesField(2, []byte{id, 0, 0, 0, 0, 0, 0, 1}), str(5, "s")}
		for _, a := range attrs {
			fields = append(fields, bytesField(9, a))
		}
		return msg(fields...)
	}
	entityRef := msg(str(2, "service"), str(3, "service.name"))
	withRef := bytesField(1, msg(
		bytesField(1, msg(bytesField(1, kv("service.name", "a")), bytesField(3, entityRef))),
		bytesField(2, msg(bytesField(2, span(1, kv("k", "v"))))),
	))
	withIndex := bytesField(1, msg(
		bytesField(1, msg(bytesField(1, kv("service.name", "b")))),
		bytesField(2, msg(bytesField(2, span(2, kv("k", "v", varintField(3, 5)), kv("plain", "x"))), bytesField(2, span(3, kv("k", "v"))))),
	))
	td, err := rawUnmarshaler.UnmarshalTraces(msg(withRef, withIndex))
	if err != nil {
		t.Fatal(err)
	}
	if td.SpanCount() != 3 {
		t.Fatalf("built %d spans, want 3", td.SpanCount())
	}
	return td
}

func TestFromTraces_KeepsOnlyWhatKeepAccepts(t *testing.T) {
	td := variedTraces()
	var offered []pcommon.SpanID
	got, err := FromTraces("p1", td, func(sp ptrace.Span) bool {
		offered = append(offered, sp.SpanID())
		return sp.SpanID()[2]%2 == 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offered) != td.SpanCount() {
		t.Fatalf("keep saw %d spans, batch has %d", len(offered), td.SpanCount())
	}
	var want []pcommon.SpanID
	for _, id := range offered {
		if id[2]%2 == 0 {
			want = append(want, id)
		}
	}
	var kept []pcommon.SpanID
	for _, s := range got {
		kept = append(kept, s.SpanID)
	}
	if !reflect.DeepEqual(kept, want) {
		t.Fatalf("kept %v, want %v", kept, want)
	}
}

// FuzzFromTraces holds FromTraces to FromPData on any batch the OTLP decoder accepts.
func FuzzFromTraces(f *testing.F) {
	for _, td := range []ptrace.Traces{ptrace.NewTraces(), variedTraces()} {
		b, err := rawMarshaler.MarshalTraces(td)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		td, err := rawUnmarshaler.UnmarshalTraces(b)
		if err != nil {
			return
		}
		requireSameSpans(t, td)
	})
}
