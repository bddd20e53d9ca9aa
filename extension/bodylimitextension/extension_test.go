package bodylimitextension

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

func TestMiddleware_RefusesDeclaredOversizedBodies(t *testing.T) {
	f := NewFactory()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), &Config{MaxRequestBodySize: 10})
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	wrap, _ := ext.(*bodyLimit).GetHTTPHandler(context.Background())
	h, _ := wrap(context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		body        string
		want        int
		wantReached int
	}{
		{"0123456789", http.StatusOK, 1},
		{"0123456789a", http.StatusRequestEntityTooLarge, 1},
		{"", http.StatusOK, 2},
	}
	for _, tt := range tests {
		resp, err := http.Post(srv.URL, "application/x-protobuf", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || reached != tt.wantReached {
			t.Errorf("%d-byte body: %d (handler reached %d times), want %d (%d)", len(tt.body), resp.StatusCode, reached, tt.want, tt.wantReached)
		}
		if tt.want == http.StatusRequestEntityTooLarge && !strings.Contains(string(msg), "limit of 10 bytes") {
			t.Errorf("413 body does not say the limit: %q", msg)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int64{"bodylimit": 20 << 20, "bodylimit/custom": 1 << 20, "bodylimit/bad": -1} {
		cfg := createDefaultConfig().(*Config)
		sub, _ := cm.Sub(id)
		if err := sub.Unmarshal(cfg); err != nil {
			t.Fatal(err)
		}
		err := confmap.Validate(cfg)
		if want < 0 {
			if err == nil || !strings.Contains(err.Error(), "max_request_body_size") {
				t.Errorf("%s: Validate = %v, want an error naming max_request_body_size", id, err)
			}
			continue
		}
		if err != nil || cfg.MaxRequestBodySize != want {
			t.Errorf("%s: %d, %v; want %d", id, cfg.MaxRequestBodySize, err, want)
		}
	}
}
