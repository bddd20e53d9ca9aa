package pathaliasextension

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

func TestStrip(t *testing.T) {
	p := newPathAlias(&Config{StripPrefixes: []string{"/otel", "/api/public/otel"}})
	tests := []struct {
		in, want string
	}{
		{"/otel/v1/traces", "/v1/traces"},
		{"/otel/v1/logs", "/v1/logs"},
		{"/otel", "/"},
		{"/api/public/otel/v1/traces", "/v1/traces"},
		{"/v1/traces", "/v1/traces"},
		{"/otelx/v1/traces", "/otelx/v1/traces"},
		{"/x/otel/v1/traces", "/x/otel/v1/traces"},
	}
	for _, tt := range tests {
		if got, _ := p.strip(tt.in); got != tt.want {
			t.Errorf("strip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMiddleware_ServesAliasedPathThroughWrappedHandler(t *testing.T) {
	f := NewFactory()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "traces:"+r.URL.RawQuery)
	})
	wrap, err := ext.(*pathAlias).GetHTTPHandler(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h, err := wrap(context.Background(), mux)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]int{"/v1/traces?a=1": 200, "/otel/v1/traces?a=1": 200, "/otelx/v1/traces": 404} {
		resp, err := http.Post(srv.URL+path, "application/x-protobuf", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s = %d, want %d", path, resp.StatusCode, want)
		}
		if want == 200 && string(body) != "traces:a=1" {
			t.Errorf("POST %s body %q: query string lost", path, body)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		want    []string
		wantErr string
	}{
		{"pathalias", []string{"/otel"}, ""},
		{"pathalias/custom", []string{"/otel", "/api/public/otel"}, ""},
		{"pathalias/bad", nil, "strip_prefixes[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			sub, err := cm.Sub(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if err := sub.Unmarshal(cfg); err != nil {
				t.Fatal(err)
			}
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(cfg.StripPrefixes, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, %v; want %v", cfg.StripPrefixes, err, tt.want)
			}
		})
	}
}
