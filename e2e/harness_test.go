package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/apikeys"
)

// binary is the tracehound collector built from cmd/tracehound once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tracehound-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tracehound")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	build := exec.Command("go", "build", "-o", binary, "./cmd/tracehound")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build cmd/tracehound:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// collector is one running tracehound process with the embedded default configuration.
type collector struct {
	t                           *testing.T
	cmd                         *exec.Cmd
	log                         *bytes.Buffer
	dataDir                     string
	grpcAddr, httpAddr, apiAddr string
	proxyAddr                   string
	extraEnv                    []string
	// key is an API key of project "default", created before the first start.
	key string
	// args are extra command-line arguments, e.g. a --config that replaces the default one.
	args []string
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newCollector picks free ports and a data directory; start runs it.
func newCollector(t *testing.T, extraEnv ...string) *collector {
	c := &collector{
		t:        t,
		dataDir:  t.TempDir(),
		grpcAddr: freePort(t),
		httpAddr: freePort(t),
		apiAddr:  freePort(t),
		extraEnv: extraEnv,
	}
	c.key = c.addKey("default")
	c.start()
	t.Cleanup(c.stop)
	return c
}

func (c *collector) start() {
	c.t.Helper()
	c.log = &bytes.Buffer{}
	if c.proxyAddr == "" {
		c.proxyAddr = freePort(c.t)
	}
	c.cmd = exec.Command(binary, c.args...)
	c.cmd.Dir = c.dataDir
	c.cmd.Env = append(os.Environ(),
		"TRACEHOUND_OTLP_GRPC_ENDPOINT="+c.grpcAddr,
		"TRACEHOUND_OTLP_HTTP_ENDPOINT="+c.httpAddr,
		"TRACEHOUND_API_ENDPOINT="+c.apiAddr,
		"TRACEHOUND_PROXY_ENDPOINT="+c.proxyAddr,
		"TRACEHOUND_DATA_DIR="+filepath.Join(c.dataDir, "data"),
		"TRACEHOUND_METRICS_LEVEL=none",
	)
	c.cmd.Env = append(c.cmd.Env, c.extraEnv...)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c.apiAddr == "" {
			// No records API (e.g. a sidecar): ready once OTLP listens.
			if conn, err := net.Dial("tcp", c.httpAddr); err == nil {
				conn.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		resp, err := http.Get("http://" + c.apiAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				if conn, err := net.Dial("tcp", c.httpAddr); err == nil {
					conn.Close()
					return
				}
			}
		}
		if c.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("tracehound did not become ready:\n%s", c.log.String())
}

// stop ends the process with SIGTERM, as an operator would, and waits for a clean exit.
func (c *collector) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			c.t.Errorf("tracehound exited with %v:\n%s", err, c.log.String())
		}
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		c.t.Errorf("tracehound did not stop within 20s:\n%s", c.log.String())
	}
	c.cmd = nil
}

// newCollectorWithConfig runs tracehound with a configuration file instead of the embedded
// default; the file may use the same TRACEHOUND_* environment variables.
func newCollectorWithConfig(t *testing.T, yaml string) *collector {
	c := &collector{t: t, dataDir: t.TempDir(), grpcAddr: freePort(t), httpAddr: freePort(t), apiAddr: freePort(t)}
	path := filepath.Join(c.dataDir, "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.args = []string{"--config", path}
	c.key = c.addKey("default")
	c.start()
	t.Cleanup(c.stop)
	return c
}

// defaultConfig is the embedded default configuration's source.
func defaultConfig(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(file)), "cmd", "tracehound", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// addKey creates an API key for a project in the collector's keys file, as
// `tracehound keys create` does; a running collector picks it up on its next reload.
func (c *collector) addKey(project string) string {
	c.t.Helper()
	key, _, err := apikeys.Create(filepath.Join(c.dataDir, "data", "keys.yaml"),
		apikeys.Entry{Project: project, Name: fmt.Sprintf("e2e-%s-%d", project, time.Now().UnixNano())}, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	return key
}

// bearer is the Authorization header value for the default project's key.
func (c *collector) bearer() string { return "Bearer " + c.key }

func (c *collector) restart() {
	c.stop()
	c.start()
}

// apiGet fetches an API path with the default project's key (or the given headers) and
// decodes the JSON body into out.
func (c *collector) apiGet(path string, out any, header ...string) int {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+c.apiAddr+path, nil)
	req.Header.Set("Authorization", c.bearer())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			c.t.Fatalf("GET %s: status %d, body %s: %v", path, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

// post sends an OTLP/HTTP request with an Authorization header ("" for none).
func (c *collector) post(path, contentType string, body []byte, authorization string) int {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
