package judge

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestConfig_FromYAML(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		check     func(t *testing.T, c *Config)
		wantError string
	}{
		{id: "full", check: func(t *testing.T, c *Config) {
			j := c.Judge
			if j.Endpoint != "https://api.openai.com/v1" || j.Model != "gpt-4o-mini" || j.APIKeyEnv != "OPENAI_API_KEY" ||
				j.Timeout != 20*time.Second || j.Concurrency != 8 || j.MaxRequestsPerMinute != 120 || j.MaxRetries != 3 ||
				c.PollInterval != 2*time.Second || c.Settle != 30*time.Second || c.Lookback != 2*time.Hour {
				t.Errorf("config = %+v", c)
			}
			if len(c.Definitions) != 3 {
				t.Fatalf("definitions = %+v", c.Definitions)
			}
			h, err := c.Definitions[0].normalize()
			if err != nil || h.Name != "hallucination" || h.Rate() != 0.1 || h.Filter != "source=otlp meta.env=prod" {
				t.Errorf("hallucination = %+v, %v", h, err)
			}
			tc, _ := c.Definitions[1].normalize()
			if tc.Threshold() != 3 || tc.OutputType != OutputScale15 {
				t.Errorf("task_completion = %+v", tc)
			}
			p := c.Definitions[2]
			if p.IsEnabled() || p.Flag == nil || p.Flag.Code != "impolite" || p.Flag.Severity != "info" || p.Endpoint != "http://127.0.0.1:11434/v1" {
				t.Errorf("polite = %+v", p)
			}
		}},
		{id: "unknown_key", wantError: "treshold"},
		{id: "bad_definition", wantError: "metrics.definitions[1].output_type:"},
		{id: "duplicate", wantError: "metrics.definitions[1].name: \"safety\" is defined twice"},
		{id: "bad_judge", wantError: "metrics.judge.endpoint:"},
		{id: "bad_judge", wantError: "metrics.judge.concurrency:"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			cfg := NewDefaultConfig()
			sub, err := cm.Sub(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if err = sub.Unmarshal(&cfg); err == nil {
				err = confmap.Validate(&cfg)
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
			tt.check(t, &cfg)
		})
	}
	def := NewDefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("default config is invalid: %v", err)
	}
}

func TestParseFilterWith_Forms(t *testing.T) {
	tests := []struct {
		expr, wantErr string
	}{
		{expr: ""},
		{expr: `source=otlp  meta.env=prod q="refund policy"`},
		{expr: "?source=otlp&model=gpt-4o"},
		{expr: `q="unbalanced`, wantErr: "filter: unbalanced"},
		{expr: "source", wantErr: "filter: want key=value"},
		{expr: "cursor=abc", wantErr: "filter: cursor"},
		{expr: "nope=1", wantErr: "filter: nope"},
	}
	for _, tt := range tests {
		f, err := parseFilterWith(testFilterParser, tt.expr, time.Now())
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.expr, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
		}
		switch tt.expr {
		case `source=otlp  meta.env=prod q="refund policy"`:
			if f.Source != "otlp" || f.Meta["env"] != "prod" || f.Text != "refund policy" {
				t.Errorf("filter = %+v", f)
			}
		case "?source=otlp&model=gpt-4o":
			if f.Source != "otlp" || f.Model != "gpt-4o" {
				t.Errorf("filter = %+v", f)
			}
		}
	}
}
