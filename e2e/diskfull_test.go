package e2e

import (
	"bytes"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// bigBatch is one request of n traces whose spans carry ~20 KB of text each, random letters
// that compression cannot shrink much, so the store grows by about that much per trace.
func bigBatch(seq, n int) ([]byte, []string) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	var ids []string
	rng := rand.New(rand.NewSource(int64(seq)))
	for i := 0; i < n; i++ {
		letters := make([]byte, 20_000)
		for j := range letters {
			letters[j] = 'a' + byte(rng.Intn(26))
		}
		text := string(letters)
		tid := pcommon.TraceID{0xdf, byte(seq >> 8), byte(seq), byte(i)}
		ids = append(ids, tid.String())
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{1})
		s.SetName("chat")
		now := time.Now()
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		s.Attributes().PutStr("gen_ai.operation.name", "chat")
		s.Attributes().PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"`+text+`"}]}]`)
	}
	body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	return body, ids
}

// TestDiskFull_IngestBacksOffReadsWorkAndResume puts the store on a tiny tmpfs, fills it, and
// checks that ingest is refused with a retryable status (not a crash, not a corrupt store),
// reads keep working, and ingest resumes when space returns. Mounting needs root, which CI has.
func TestDiskFull_IngestBacksOffReadsWorkAndResume(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a small tmpfs and needs root (CI runs as root)")
	}
	c := &collector{t: t, dataDir: t.TempDir(), grpcAddr: freePort(t), httpAddr: freePort(t), apiAddr: freePort(t)}
	mnt := filepath.Join(c.dataDir, "data")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	c.key = c.addKey("default")
	c.start()
	t.Cleanup(c.stop)

	post := func(body []byte) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Authorization", c.bearer())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("ingest request failed outright (did the process die?): %v\n%s", err, c.log.String())
		}
		resp.Body.Close()
		return resp
	}
	var acked []string
	var refused *http.Response
	for seq := 0; seq < 400 && refused == nil; seq++ {
		body, ids := bigBatch(seq, 5)
		resp := post(body)
		switch resp.StatusCode {
		case http.StatusOK:
			acked = append(acked, ids...)
		default:
			refused = resp
		}
	}
	if refused == nil {
		t.Fatalf("6 MiB store never filled after %d traces", len(acked))
	}
	if refused.StatusCode != http.StatusServiceUnavailable || refused.Header.Get("Retry-After") != "5" {
		t.Fatalf("full disk answered %d with Retry-After %q, want 503 with Retry-After 5", refused.StatusCode, refused.Header.Get("Retry-After"))
	}
	t.Logf("disk full after %d acknowledged traces: %d, Retry-After %q", len(acked), refused.StatusCode, refused.Header.Get("Retry-After"))
	if code := c.apiGet("/api/v1/records?limit=10", nil); code != http.StatusOK {
		t.Fatalf("reads fail while the disk is full: %d", code)
	}

	// Space returns: the same request is accepted now.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v: %s", err, out)
	}
	body, ids := bigBatch(9999, 5)
	waitFor(t, "ingest to resume", func() bool { return post(body).StatusCode == http.StatusOK })
	acked = append(acked, ids...)

	// Every acknowledged trace is there, before and after a restart (the store opens cleanly).
	c.restart()
	for _, id := range acked {
		if code := c.apiGet("/api/v1/records/"+id, nil); code != http.StatusOK {
			t.Fatalf("acknowledged trace %s missing after the disk filled: %d", id, code)
		}
	}
}
