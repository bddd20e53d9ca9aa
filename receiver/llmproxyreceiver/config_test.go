package llmproxyreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.MustNewIDWithName("llmproxy", name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfig_EmptyUsesDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatalf("{} must be valid: %v", err)
	}
	if cfg.NetAddr.Endpoint != "127.0.0.1:4319" {
		t.Errorf("endpoint %q", cfg.NetAddr.Endpoint)
	}
	if got := cfg.Upstreams["openai"].resolvedURL("openai"); got != "https://api.openai.com" {
		t.Errorf("openai url %q", got)
	}
	if got := cfg.Upstreams["anthropic"].resolvedURL("anthropic"); got != "https://api.anthropic.com" {
		t.Errorf("anthropic url %q", got)
	}
	if !cfg.Passthrough || cfg.Auth.HasValue() || cfg.WriteTimeout != 0 {
		t.Errorf("defaults: passthrough=%v auth=%v write_timeout=%v", cfg.Passthrough, cfg.Auth.HasValue(), cfg.WriteTimeout)
	}
}

func TestConfig_FullExample(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Get().Config.AuthenticatorID != component.MustNewID("bearerauth") {
		t.Errorf("authenticator %v", cfg.Auth.Get().Config.AuthenticatorID)
	}
	if cfg.Passthrough || cfg.MaxRequestBodyBytes != 1<<20 || cfg.MaxCaptureBytes != 2<<20 {
		t.Errorf("limits: %+v", cfg)
	}
	if cfg.Queue.Size != 50 || cfg.Queue.Workers != 4 || cfg.Queue.MaxBytes != 10<<20 {
		t.Errorf("queue %+v", cfg.Queue)
	}
	openai := cfg.Upstreams["openai"]
	if openai.URL != "https://openai-gateway.internal.example" || openai.Timeout != 10*time.Minute {
		t.Errorf("openai upstream %+v", openai)
	}
	if _, ok := cfg.Upstreams["anthropic"]; !ok {
		t.Error("default anthropic upstream lost when others are configured")
	}
	if cfg.Upstreams["azure"].resolvedProvider("azure") != "azure.ai.openai" || cfg.Upstreams["ollama"].resolvedProvider("ollama") != "ollama" {
		t.Error("provider names")
	}
}

func TestConfig_ValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"empty endpoint", func(c *Config) { c.NetAddr.Endpoint = "" }, []string{"endpoint:"}},
		{"zero body limit", func(c *Config) { c.MaxRequestBodyBytes = 0 }, []string{"max_request_body_bytes"}},
		{"confighttp body limit", func(c *Config) { c.MaxRequestBodySize = 5 }, []string{"max_request_body_size", "max_request_body_bytes"}},
		{"zero capture", func(c *Config) { c.MaxCaptureBytes = 0 }, []string{"max_capture_bytes"}},
		{"queue", func(c *Config) { c.Queue = QueueConfig{} }, []string{"queue.size", "queue.max_bytes", "queue.workers"}},
		{"no upstreams", func(c *Config) { c.Upstreams = nil }, []string{"upstreams:"}},
		{"custom upstream without url", func(c *Config) { c.Upstreams["vllm"] = UpstreamConfig{} }, []string{"upstreams.vllm.url"}},
		{"reserved name", func(c *Config) { c.Upstreams["v1"] = UpstreamConfig{URL: "http://x"} }, []string{"upstreams.v1"}},
		{"endpoint instead of url", func(c *Config) {
			u := UpstreamConfig{URL: "http://x"}
			u.Endpoint = "http://y"
			c.Upstreams["vllm"] = u
		}, []string{"upstreams.vllm.endpoint"}},
		{"url with query", func(c *Config) { c.Upstreams["vllm"] = UpstreamConfig{URL: "http://x/?a=b"} }, []string{"upstreams.vllm.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.mutate(cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	t.Run("from yaml", func(t *testing.T) {
		_, err := loadConfig(t, "bad_upstream")
		if err == nil {
			t.Fatal("want an error")
		}
		for _, w := range []string{"upstreams.bad name:", "upstreams.bad name.url", "upstreams.bad name.api"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		if _, err := loadConfig(t, "unknown_key"); err == nil || !strings.Contains(err.Error(), "upstream") {
			t.Fatalf("want an error for the unknown key, got %v", err)
		}
	})
}
