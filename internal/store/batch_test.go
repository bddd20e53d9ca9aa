package store

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// varied is a batch with empty and full resources and scopes, schema URLs, events, links and
// a span without IDs.
func varied() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := 0; r < 3; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		if r > 0 {
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprint("svc", r))
			rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		}
		for s := 0; s < r+1; s++ {
			ss := rs.ScopeSpans().AppendEmpty()
			if s%2 == 1 {
				ss.Scope().SetName("scope")
				ss.Scope().SetVersion("1.0")
				ss.Scope().Attributes().PutInt("n", int64(s))
			}
			for k := 0; k < s+1; k++ {
				sp := ss.Spans().AppendEmpty()
				if r == 2 && k == 0 {
					continue // no IDs
				}
				sp.SetTraceID(pcommon.TraceID{byte(r + 1), 1})
				sp.SetSpanID(pcommon.SpanID{byte(r + 1), byte(s + 1), byte(k + 1)})
				sp.SetName(fmt.Sprint("span ", r, s, k))
				sp.SetStartTimestamp(pcommon.Timestamp(1000 + k))
				sp.SetEndTimestamp(pcommon.Timestamp(2000 + k))
				sp.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
				sp.Attributes().PutStr("big", string(make([]byte, 300*k)))
				sp.Events().AppendEmpty().SetName("event")
				sp.Links().AppendEmpty().SetTraceID(pcommon.TraceID{9})
			}
		}
	}
	return td
}

func hasIDs(sp ptrace.Span) bool { return !sp.TraceID().IsEmpty() && !sp.SpanID().IsEmpty() }

func TestFromTraces_SameAsFromPData(t *testing.T) {
	td := varied()
	got, err := FromTraces("p1", td, hasIDs)
	if err != nil {
		t.Fatal(err)
	}
	var want []Span
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
			ss := rss.At(i).ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				if !hasIDs(ss.Spans().At(k)) {
					continue
				}
				s, err := FromPData("p1", rss.At(i).Resource(), ss.Scope(), ss.Spans().At(k))
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, s)
			}
		}
	}
	if len(got) != len(want) || len(got) != td.SpanCount()-3 {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	js := &ptrace.JSONMarshaler{}
	for i := range got {
		_, gtd, err := DecodeSpan("p1", got[i].Raw)
		if err != nil {
			t.Fatalf("span %d: %v", i, err)
		}
		_, wtd, _ := DecodeSpan("p1", want[i].Raw)
		gj, _ := js.MarshalTraces(gtd)
		wj, _ := js.MarshalTraces(wtd)
		if string(gj) != string(wj) {
			t.Fatalf("span %d stored differently:\n got %s\nwant %s", i, gj, wj)
		}
		g, w := got[i], want[i]
		g.Raw, w.Raw = nil, nil
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("span %d fields differ:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func BenchmarkFromTraces(b *testing.B) {
	td := varied()
	b.Run("batch", func(b *testing.B) {
		for range b.N {
			if _, err := FromTraces("p", td, hasIDs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("per_span", func(b *testing.B) {
		for range b.N {
			rss := td.ResourceSpans()
			for i := 0; i < rss.Len(); i++ {
				for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
					ss := rss.At(i).ScopeSpans().At(j)
					for k := 0; k < ss.Spans().Len(); k++ {
						if hasIDs(ss.Spans().At(k)) {
							_, _ = FromPData("p", rss.At(i).Resource(), ss.Scope(), ss.Spans().At(k))
						}
					}
				}
			}
		}
	})
}
