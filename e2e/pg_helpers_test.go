package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// postgresConfig is the default configuration with the records exporter on a PostgreSQL
// database instead of the bbolt file.
func postgresConfig(t *testing.T, dsn string) string {
	t.Helper()
	cfg := defaultConfig(t)
	const section = "\n  records:\n"
	if strings.Count(cfg, section) != 1 {
		t.Fatalf("default config: want exactly one records exporter section, got:\n%s", cfg)
	}
	return strings.Replace(cfg, section, section+"    store: postgres\n    postgres:\n      dsn: "+dsn+"\n", 1)
}

// otlpSpan is one span as its own OTLP/protobuf export request, as an unbatched SDK sends it.
type otlpSpan struct {
	trace  pcommon.TraceID
	id     pcommon.SpanID
	parent pcommon.SpanID
	name   string
	start  time.Time
	dur    time.Duration
	err    bool
	attrs  map[string]any
}

func (s otlpSpan) body(t *testing.T) []byte {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "replica-app")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("tracehound-e2e")
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(s.trace)
	sp.SetSpanID(s.id)
	sp.SetParentSpanID(s.parent)
	sp.SetName(s.name)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.start.Add(s.dur)))
	if s.err {
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage("tool failed")
	}
	if err := sp.Attributes().FromRaw(s.attrs); err != nil {
		t.Fatal(err)
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendOTLP sends one OTLP/HTTP protobuf request; unlike collector.post it may run on any
// goroutine, reporting failures as an error.
func sendOTLP(client *http.Client, c *collector, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", c.bearer())
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s/v1/traces: %w", c.httpAddr, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s/v1/traces: %d %s", c.httpAddr, resp.StatusCode, msg)
	}
	return nil
}
