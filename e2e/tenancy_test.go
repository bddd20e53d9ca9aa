package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// claimingTrace is one span whose resource and span both claim project "victim".
func claimingTrace(b byte) (ptrace.Traces, string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "tenant-app")
	rs.Resource().Attributes().PutStr("scorecard.project_id", "victim")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	tid := pcommon.TraceID{0x7e, b}
	s.SetTraceID(tid)
	s.SetSpanID(pcommon.SpanID{b})
	s.SetName("tenant span")
	s.Attributes().PutStr("tracehound.project.id", "victim")
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	return td, tid.String()
}

func TestE2E_TenancyAndAuth(t *testing.T) {
	c := newCollector(t)
	keyA := c.addKey("alpha")
	keyB := c.addKey("beta")
	victim := c.addKey("victim")
	// Keys added while running are picked up by the file reload.
	td, idB := claimingTrace(1)
	body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	waitFor(t, "new key accepted", func() bool {
		return c.post("/v1/traces", "application/x-protobuf", body, "Bearer "+keyB) == http.StatusOK
	})

	rejected := []struct{ name, auth string }{
		{"no key", ""},
		{"wrong key", "Bearer th_not-a-real-key"},
		{"wrong scheme", "Basic " + keyA},
	}
	for i, r := range rejected {
		td, id := claimingTrace(byte(10 + i))
		b, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if code := c.post("/v1/traces", "application/x-protobuf", b, r.auth); code != http.StatusUnauthorized {
			t.Errorf("HTTP with %s: %d, want 401", r.name, code)
		}
		for _, k := range []string{c.key, keyA, keyB, victim} {
			if code := c.apiGet("/api/v1/records/"+id, nil, "Authorization", "Bearer "+k); code != http.StatusNotFound {
				t.Errorf("%s: rejected trace stored (visible with a key: %d)", r.name, code)
			}
		}
	}

	// gRPC: wrong key → Unauthenticated; right key → stored under the key's project.
	conn, err := grpc.NewClient(c.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	gtd, gid := claimingTrace(2)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer wrong")
	if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(gtd)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC with a wrong key: %v, want Unauthenticated", err)
	}
	ctx = metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyA)
	if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(gtd)); err != nil {
		t.Fatalf("gRPC with alpha's key: %v", err)
	}

	// Each record is visible to its own project only; other projects get 404, not 403.
	visible := []struct {
		id, key string
		want    int
	}{
		{idB, keyB, 200}, {idB, keyA, 404}, {idB, victim, 404}, {idB, c.key, 404},
		{gid, keyA, 200}, {gid, keyB, 404}, {gid, victim, 404},
	}
	for _, v := range visible {
		var rec struct {
			ProjectID string `json:"project_id"`
		}
		code := c.apiGet("/api/v1/records/"+v.id, &rec, "Authorization", "Bearer "+v.key)
		if code != v.want {
			t.Errorf("record %s with key of another project: %d, want %d", v.id, code, v.want)
		}
		if code == 200 && rec.ProjectID == "victim" {
			t.Errorf("record %s stored under the client-claimed project", v.id)
		}
	}
	var list struct {
		Records []struct{ ID string } `json:"records"`
	}
	c.apiGet("/api/v1/records", &list, "Authorization", "Bearer "+victim)
	if len(list.Records) != 0 {
		t.Errorf("the claimed project lists %d records, want 0", len(list.Records))
	}
	if code := c.apiGet("/api/v1/records", nil, "Authorization", ""); code != http.StatusUnauthorized {
		t.Errorf("API without a key: %d, want 401", code)
	}
	if strings.Contains(c.log.String(), keyA) || strings.Contains(c.log.String(), keyB) {
		t.Error("an API key appears in the collector log")
	}
}

func TestE2E_FirstStartGeneratesKeyAndKeysCLI(t *testing.T) {
	c := &collector{t: t, dataDir: t.TempDir(), grpcAddr: freePort(t), httpAddr: freePort(t), apiAddr: freePort(t)}
	c.start()
	t.Cleanup(c.stop)
	m := regexp.MustCompile(`Bearer (th_[A-Za-z0-9_-]+)`).FindStringSubmatch(c.log.String())
	if m == nil {
		t.Fatalf("first start printed no key:\n%s", c.log.String())
	}
	c.key = m[1]
	td, id := claimingTrace(3)
	body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if code := c.post("/v1/traces", "application/x-protobuf", body, c.bearer()); code != http.StatusOK {
		t.Fatalf("generated key refused: %d", code)
	}
	if code := c.apiGet("/api/v1/records/"+id, nil); code != http.StatusOK {
		t.Fatalf("record with the generated key: %d", code)
	}

	// `tracehound keys create` against the running collector's data directory.
	cmd := exec.Command(binary, "keys", "create", "--project", "cli-project", "--name", "from-cli")
	cmd.Env = append(cmd.Environ(), "TRACEHOUND_DATA_DIR="+filepath.Join(c.dataDir, "data"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	cliKey := strings.TrimSpace(string(out))
	waitFor(t, "CLI key accepted", func() bool {
		return c.apiGet("/api/v1/records", nil, "Authorization", "Bearer "+cliKey) == http.StatusOK
	})
	if code := c.apiGet("/api/v1/records/"+id, nil, "Authorization", "Bearer "+cliKey); code != http.StatusNotFound {
		t.Fatalf("cli-project sees the default project's record: %d", code)
	}
	keysFile := filepath.Join(c.dataDir, "data", "keys.yaml")
	list, err := exec.Command(binary, "keys", "list", "--file", keysFile).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "cli-project") || strings.Contains(string(list), cliKey) {
		t.Fatalf("keys list: %v\n%s", err, list)
	}
}

// TestE2E_ProjectsSurviveBatching mixes two projects' requests through the default pipeline with
// a batch processor after llmextract. The batch processor drops the request's auth context, so
// the project must already be stamped on the spans.
func TestE2E_ProjectsSurviveBatching(t *testing.T) {
	cfg := defaultConfig(t)
	for _, r := range [][2]string{
		{"  llmextract: {}\n", "  llmextract: {}\n  batch: {timeout: 300ms, send_batch_size: 1000}\n"},
		{"processors: [memory_limiter, llmextract, errordetect]", "processors: [memory_limiter, llmextract, batch, errordetect]"},
	} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("default config has no %q to extend", r[0])
		}
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	c := newCollectorWithConfig(t, cfg)
	keys := map[string]string{"alpha": c.addKey("alpha"), "beta": c.addKey("beta")}
	waitFor(t, "keys loaded", func() bool {
		return c.apiGet("/api/v1/records", nil, "Authorization", "Bearer "+keys["beta"]) == http.StatusOK
	})
	type sent struct{ project, id string }
	var all []sent
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		project := []string{"alpha", "beta"}[i%2]
		wg.Add(1)
		go func(i int, project string) {
			defer wg.Done()
			td, id := claimingTrace(byte(100 + i))
			body, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
			if code := c.post("/v1/traces", "application/x-protobuf", body, "Bearer "+keys[project]); code != http.StatusOK {
				t.Errorf("send for %s: %d", project, code)
			}
			mu.Lock()
			all = append(all, sent{project, id})
			mu.Unlock()
		}(i, project)
	}
	wg.Wait()
	for _, s := range all {
		other := map[string]string{"alpha": "beta", "beta": "alpha"}[s.project]
		// The batch processor acknowledges before the store commits: poll.
		waitFor(t, "record "+s.id, func() bool {
			return c.apiGet("/api/v1/records/"+s.id, nil, "Authorization", "Bearer "+keys[s.project]) == http.StatusOK
		})
		if code := c.apiGet("/api/v1/records/"+s.id, nil, "Authorization", "Bearer "+keys[other]); code != http.StatusNotFound {
			t.Errorf("%s's record visible to %s: %d", s.project, other, code)
		}
	}
}
