package store

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// requireSameAttr holds SpanStringAttr to decoding: when it answers, the answer is the value
// a decoder ranging over the span's attributes keeps last, and it answers whenever that is a
// string of a well-formed stored span.
func requireSameAttr(t *testing.T, raw []byte, key string) {
	t.Helper()
	got, ok := SpanStringAttr(raw, key)
	_, td, err := DecodeSpan("p", raw)
	if err != nil {
		return // not a stored span: whatever SpanStringAttr says, callers decode and fail
	}
	var want pcommon.Value
	found := false
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Range(func(k string, v pcommon.Value) bool {
		if k == key {
			want, found = v, true
		}
		return true
	})
	isStr := found && want.Type() == pcommon.ValueTypeStr
	if ok != isStr || ok && got != want.Str() {
		t.Fatalf("SpanStringAttr(%q) = %q, %v; the decoded span has %v (string: %v)", key, got, ok, want.AsRaw(), isStr)
	}
}

func TestSpanStringAttr_AsDecoded(t *testing.T) {
	td := variedTraces()
	sp := td.ResourceSpans().At(1).ScopeSpans().At(1).Spans().At(0)
	sp.Attributes().PutStr("gen_ai.input.messages", `[{"role":"user"}]`)
	sp.Attributes().PutInt("typed", 5)
	sp.Attributes().PutEmpty("empty")
	spans, err := FromTraces("p", td, hasIDs)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := SpanStringAttr(spans[1].Raw, "gen_ai.request.model"); !ok || v != "gpt-4o" {
		t.Fatalf("gen_ai.request.model = %q, %v", v, ok)
	}
	for _, s := range spans {
		for _, key := range []string{"gen_ai.input.messages", "tracehound.input", "typed", "empty", "list", "absent", ""} {
			requireSameAttr(t, s.Raw, key)
		}
	}
	// Fields pdata keeps but does not show, next to the key looked up.
	spans, err = FromTraces("p", hiddenFieldsTraces(t), hasIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range spans {
		requireSameAttr(t, s.Raw, "k")
	}
	// Duplicate keys, as a client may send them: the last one is what a decoder keeps.
	str := func(n protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, n, protowire.BytesType), s)
	}
	field := func(n protowire.Number, parts ...[]byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, n, protowire.BytesType), bytes.Join(parts, nil))
	}
	kv := func(k string, v []byte) []byte { return field(9, str(1, k), field(2, v)) }
	intVal := protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 7)
	for name, attrs := range map[string][][]byte{
		"string after string": {kv("k", str(1, "first")), kv("k", str(1, "second"))},
		"int after string":    {kv("k", str(1, "first")), kv("k", intVal)},
		"string after int":    {kv("k", intVal), kv("k", str(1, "last"))},
		"oneof set twice":     {kv("k", append(str(1, "a"), intVal...))},
	} {
		span := append([][]byte{field(1, bytes.Repeat([]byte{1}, 16)), field(2, []byte{1, 0, 0, 0, 0, 0, 0, 1})}, attrs...)
		raw := field(1, field(1), field(2, field(1), field(2, span...)))
		t.Run(name, func(t *testing.T) {
			if _, _, err := DecodeSpan("p", raw); err != nil {
				t.Fatalf("the test's span does not decode: %v", err)
			}
			requireSameAttr(t, raw, "k")
		})
	}
}

func FuzzSpanStringAttr(f *testing.F) {
	td := variedTraces()
	spans, err := FromTraces("p", td, hasIDs)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range spans[:4] {
		f.Add(s.Raw, "tracehound.input")
	}
	one := ptrace.NewTraces()
	sp := one.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1})
	sp.SetSpanID(pcommon.SpanID{1})
	sp.Attributes().PutStr("k", "first")
	sp.Attributes().PutStr("k2", "x")
	raw, err := rawMarshaler.MarshalTraces(one)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, "k")
	f.Fuzz(func(t *testing.T, raw []byte, key string) { requireSameAttr(t, raw, key) })
}
