package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func oneSpan(tid pcommon.TraceID, sid byte, name string, attrs map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "badinput")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(tid)
	s.SetSpanID(pcommon.SpanID{sid, 1})
	s.SetName(name)
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	_ = s.Attributes().FromRaw(attrs)
	return td
}

func postRaw(t *testing.T, c *collector, body []byte, contentType, encoding string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", c.bearer())
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestE2E_BadInputIsRefusedOrClamped(t *testing.T) {
	c := newCollector(t)

	t.Run("oversized HTTP request", func(t *testing.T) {
		big := oneSpan(pcommon.TraceID{0xb1}, 1, "big", map[string]any{"blob": strings.Repeat("x", 21<<20)})
		body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(big)
		if code := postRaw(t, c, body, "application/x-protobuf", ""); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("21 MiB request: %d, want 413", code)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 64; i++ {
			_, _ = zw.Write(zeros)
		}
		_ = zw.Close()
		code := postRaw(t, c, buf.Bytes(), "application/x-protobuf", "gzip")
		if code != http.StatusRequestEntityTooLarge && code != http.StatusBadRequest {
			t.Fatalf("64 MiB of zeros in %d KiB of gzip: %d, want 413 or 400", buf.Len()>>10, code)
		}
	})
	t.Run("oversized gRPC request", func(t *testing.T) {
		conn, err := grpc.NewClient(c.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		big := oneSpan(pcommon.TraceID{0xb2}, 1, "big", map[string]any{"blob": strings.Repeat("x", 5<<20)})
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", c.bearer())
		_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(big))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("5 MiB gRPC message: %v, want ResourceExhausted", err)
		}
	})
	t.Run("invalid UTF-8 and clock skew", func(t *testing.T) {
		tid := pcommon.TraceID{0xb3}
		td := oneSpan(tid, 1, "odd \xff\xfe name", map[string]any{"note": "bad \xc3\x28 bytes"})
		s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		// Ends before it starts.
		s.SetEndTimestamp(s.StartTimestamp() - 1e9)
		body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if code := postRaw(t, c, body, "application/x-protobuf", ""); code != http.StatusOK {
			t.Fatalf("odd but valid request: %d", code)
		}
		var r struct {
			Name       string  `json:"name"`
			DurationMS float64 `json:"duration_ms"`
		}
		if code := c.apiGet("/api/v1/records/"+tid.String(), &r); code != http.StatusOK {
			t.Fatalf("record: %d", code)
		}
		if !strings.HasPrefix(r.Name, "odd ") || !utf8.ValidString(r.Name) || r.DurationMS != 0 {
			t.Fatalf("clamped record: name %q, duration %v", r.Name, r.DurationMS)
		}
	})
	t.Run("span without IDs does not take the batch down", func(t *testing.T) {
		td := oneSpan(pcommon.TraceID{0xb4}, 1, "good", nil)
		bad := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
		bad.SetName("no ids")
		body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		code := postRaw(t, c, body, "application/x-protobuf", "")
		if code != http.StatusOK {
			t.Fatalf("batch with one span without IDs: %d", code)
		}
		if got := c.apiGet("/api/v1/records/"+pcommon.TraceID{0xb4}.String(), nil); got != http.StatusOK {
			t.Fatalf("the valid span of the batch was not kept: %d", got)
		}
		if got := c.apiGet("/api/v1/records/"+pcommon.TraceID{}.String(), nil); got != http.StatusNotFound {
			t.Fatalf("a span without a trace ID became a record: %d", got)
		}
	})
}
