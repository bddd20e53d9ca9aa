package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
)

// TestE2E_SidecarToGateway runs the documented sidecar configuration in front of a gateway
// (the default configuration): the app sends to the sidecar without a key, the sidecar forwards
// with the project's key, and the gateway stores the records under that project.
func TestE2E_SidecarToGateway(t *testing.T) {
	gw := newCollector(t)
	teamKey := gw.addKey("team-a")

	_, file, _, _ := runtime.Caller(0)
	cfg, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(file)), "docs", "deployment", "sidecar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc := &collector{t: t, dataDir: t.TempDir(), grpcAddr: freePort(t), httpAddr: freePort(t)}
	path := filepath.Join(sc.dataDir, "sidecar.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	sc.args = []string{"--config", path}
	sc.extraEnv = []string{
		"TRACEHOUND_GATEWAY_ENDPOINT=" + gw.grpcAddr,
		"TRACEHOUND_GATEWAY_INSECURE=true",
		"TRACEHOUND_KEY=" + teamKey,
	}
	waitFor(t, "team key loaded", func() bool {
		return gw.apiGet("/api/v1/records", nil, "Authorization", "Bearer "+teamKey) == http.StatusOK
	})
	sc.start()
	t.Cleanup(sc.stop)

	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(sc.httpAddr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tid := sendAgentTrace(t, exp, "sidecar-app", "What is the capital of France?", false)

	var r recordView
	waitFor(t, "record at the gateway", func() bool {
		return gw.apiGet("/api/v1/records/"+tid.String(), &r, "Authorization", "Bearer "+teamKey) == http.StatusOK && r.SpanCount == 4
	})
	if r.ProjectID != "team-a" || r.Input != "What is the capital of France?" || r.Output != "The capital of France is Paris." ||
		r.Usage.Total != 139 || r.LLMCallCount != 1 || r.RunID != "batch-job-123" || r.Service != "sidecar-app" {
		t.Fatalf("record through sidecar → gateway: %+v", r)
	}
	// The default project (the gateway's own key) does not see it.
	if code := gw.apiGet("/api/v1/records/"+tid.String(), nil); code != http.StatusNotFound {
		t.Fatalf("default project sees team-a's record: %d", code)
	}
}
