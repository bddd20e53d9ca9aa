package recordsexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		check     func(t *testing.T, c *Config)
		wantError string
	}{
		{id: "records", check: func(t *testing.T, c *Config) {
			if c.Path != "./data" || c.API.NetAddr.Endpoint != "127.0.0.1:8080" || c.DefaultProject != "default" ||
				c.Retention != (RetentionConfig{MaxAge: 720 * time.Hour, CheckInterval: 5 * time.Minute}) {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{id: "records/custom", check: func(t *testing.T, c *Config) {
			if c.Path != "/var/lib/tracehound" || c.DefaultProject != "acme" || c.MaxBatchSpans != 5000 ||
				c.WriteQueueSize != 64 || c.Timeout != 10*time.Second || c.API.NetAddr.Endpoint != "0.0.0.0:9090" {
				t.Errorf("custom: %+v", c)
			}
		}},
		{id: "records/bad_batch", wantError: "max_batch_spans: must be at least 1"},
		{id: "records/unknown_key", wantError: "colour"},
		{id: "records/retention", check: func(t *testing.T, c *Config) {
			if c.Retention != (RetentionConfig{MaxAge: 168 * time.Hour, MaxSizeMiB: 2048, CheckInterval: time.Minute}) {
				t.Errorf("retention: %+v", c.Retention)
			}
		}},
		{id: "records/retention_off", check: func(t *testing.T, c *Config) {
			if c.Retention.enabled() || c.Retention.CheckInterval != 5*time.Minute {
				t.Errorf("retention off: %+v", c.Retention)
			}
		}},
		{id: "records/bad_retention", wantError: "retention.max_age: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			sub, err := cm.Sub(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if err = sub.Unmarshal(cfg); err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestValidate_NamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"empty path", func(c *Config) { c.Path = " " }, "path:"},
		{"no endpoint", func(c *Config) { c.API.NetAddr.Endpoint = "" }, "api.endpoint:"},
		{"no default project", func(c *Config) { c.DefaultProject = "" }, "default_project:"},
		{"queue", func(c *Config) { c.WriteQueueSize = 0 }, "write_queue_size:"},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout:"},
		{"retention size", func(c *Config) { c.Retention.MaxSizeMiB = -1 }, "retention.max_size_mib:"},
		{"retention interval", func(c *Config) { c.Retention.CheckInterval = 0 }, "retention.check_interval:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := createDefaultConfig().(*Config)
			tt.mutate(c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	if err := createDefaultConfig().(*Config).Validate(); err != nil {
		t.Fatalf("default config is invalid: %v", err)
	}
}
