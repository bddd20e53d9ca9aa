package recordsexporter

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestPushTraces_DropsSpansWithoutIDsAndKeepsTheRest(t *testing.T) {
	te := startExporter(t)
	td := agentTraces(2)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.AppendEmpty().SetSpanID(pcommon.SpanID{9})
	spans.AppendEmpty().SetTraceID(pcommon.TraceID{9})
	if err := te.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if n := te.inner.invalidSpans.Load(); n != 2 {
		t.Errorf("counted %d dropped spans, want 2", n)
	}
	var page struct {
		Records []struct {
			ProjectID string `json:"project_id"`
			SpanCount int    `json:"span_count"`
		} `json:"records"`
	}
	if code := te.get(t, "/api/v1/records", &page); code != http.StatusOK {
		t.Fatalf("GET /api/v1/records = %d", code)
	}
	if len(page.Records) != 2 {
		t.Fatalf("got %d records, want 2", len(page.Records))
	}
	for _, r := range page.Records {
		// The request carried no authentication and the spans no project attribute.
		if r.ProjectID != te.inner.cfg.DefaultProject || r.SpanCount != 4 {
			t.Errorf("record in project %q with %d spans, want %q with 4", r.ProjectID, r.SpanCount, te.inner.cfg.DefaultProject)
		}
	}
}
