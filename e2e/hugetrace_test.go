package e2e

import (
	binenc "encoding/binary"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestHugeTrace_ManySpansOneRecord sends one trace of many spans (20k in CI, 100k with -long)
// in batches, out of order, and checks the record counts them all and its detail still answers.
func TestHugeTrace_ManySpansOneRecord(t *testing.T) {
	total := 20000
	if *long {
		total = 100000
	}
	const perRequest = 2000
	c := newCollector(t)
	tid := pcommon.TraceID{0x1a, 0x9e}
	start := time.Now()
	for batch := total/perRequest - 1; batch >= 0; batch-- { // children arrive before the root
		td := ptrace.NewTraces()
		ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
		for i := 0; i < perRequest; i++ {
			n := batch*perRequest + i
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(tid)
			var sid pcommon.SpanID
			binenc.BigEndian.PutUint64(sid[:], uint64(n+1))
			s.SetSpanID(sid)
			if n > 0 {
				var parent pcommon.SpanID
				binenc.BigEndian.PutUint64(parent[:], uint64((n-1)/8+1))
				s.SetParentSpanID(parent)
			}
			s.SetName("step")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(n) * time.Microsecond)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(n+10) * time.Microsecond)))
		}
		body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if code := c.post("/v1/traces", "application/x-protobuf", body, c.bearer()); code != http.StatusOK {
			t.Fatalf("batch %d: %d", batch, code)
		}
	}
	var r struct {
		SpanCount int `json:"span_count"`
		Spans     []struct {
			Name string `json:"name"`
		} `json:"spans"`
	}
	t0 := time.Now()
	if code := c.apiGet("/api/v1/records/"+tid.String(), &r); code != http.StatusOK {
		t.Fatalf("detail of a %d-span trace: %d", total, code)
	}
	if r.SpanCount != total || len(r.Spans) != 1 {
		t.Fatalf("record has %d spans and %d roots, want %d and 1", r.SpanCount, len(r.Spans), total)
	}
	t.Logf("%d-span trace: ingested in %s, detail in %s", total, t0.Sub(start).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
}
