package errordetectprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(componentType, name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := createDefaultConfig()
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfig_EmptyIsDefault(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatalf("errordetect: {} must be valid: %v", err)
	}
	def := createDefaultConfig()
	if cfg.MaxEvidenceChars != def.MaxEvidenceChars || !cfg.Technical.Enabled || !cfg.Refusal.Enabled ||
		cfg.TraceWait != 0 || cfg.MaxTraces != 10000 || !cfg.OffTopic.Enabled || !cfg.Hallucination.Entities || len(cfg.WorkflowInterruption.IterationMarkers) != len(defaultIterationMarkers) {
		t.Errorf("empty config differs from defaults: %+v", cfg)
	}
}

func TestConfig_CustomValues(t *testing.T) {
	cfg, err := loadConfig(t, "custom")
	if err != nil {
		t.Fatalf("custom config: %v", err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"max_evidence_chars", cfg.MaxEvidenceChars == 120},
		{"trace_wait", cfg.TraceWait == 2*time.Second},
		{"max_traces", cfg.MaxTraces == 500},
		{"refusal.severity", cfg.Refusal.Severity == llmschema.SeverityError},
		{"refusal.enabled keeps its default", cfg.Refusal.Enabled},
		{"refusal.max_chars", cfg.Refusal.MaxChars == 500},
		{"refusal.extra_phrases", len(cfg.Refusal.ExtraPhrases) == 1},
		{"repetition.min_repeats", cfg.Repetition.MinRepeats == 3},
		{"off_topic.enabled", !cfg.OffTopic.Enabled},
		{"workflow_interruption.iteration_markers replaces the defaults", len(cfg.WorkflowInterruption.IterationMarkers) == 1},
		{"safety_violation.deny_terms", len(cfg.SafetyViolation.DenyTerms) == 1},
		{"safety_violation.system_prompt_leak_words", cfg.SafetyViolation.SystemPromptLeakWords == 12},
		{"hallucination.entities", !cfg.Hallucination.Entities && cfg.Hallucination.Numbers},
		{"rules", len(cfg.Rules) == 2 && cfg.Rules[1].Category == llmschema.CategoryTechnical},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s not loaded as written", c.name)
		}
	}
}

func TestConfig_InvalidOTTLNamesTheRule(t *testing.T) {
	_, err := loadConfig(t, "bad_rule")
	if err == nil {
		t.Fatal("invalid OTTL condition accepted")
	}
	if !strings.Contains(err.Error(), "rules[0] (broken).condition") {
		t.Errorf("error does not name the rule and field: %v", err)
	}
}

func TestConfig_UnknownKeyRejected(t *testing.T) {
	if _, err := loadConfig(t, "unknown_key"); err == nil || !strings.Contains(err.Error(), "phrases") {
		t.Fatalf("unknown key not rejected by name: %v", err)
	}
}

func TestConfig_ValidateNamesField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
	}{
		{"evidence too short", func(c *Config) { c.MaxEvidenceChars = 5 }, "max_evidence_chars"},
		{"negative trace wait", func(c *Config) { c.TraceWait = -time.Second }, "trace_wait"},
		{"trace wait too long", func(c *Config) { c.TraceWait = time.Hour }, "trace_wait"},
		{"no room for traces", func(c *Config) { c.TraceWait = time.Second; c.MaxTraces = 0 }, "max_traces"},
		{"unknown severity", func(c *Config) { c.Refusal.Severity = "fatal" }, "refusal.severity"},
		{"empty extra phrase", func(c *Config) { c.Refusal.ExtraPhrases = []string{" "} }, "refusal.extra_phrases[0]"},
		{"refusal max chars", func(c *Config) { c.Refusal.MaxChars = 0 }, "refusal.max_chars"},
		{"repeats below two", func(c *Config) { c.Repetition.MinRepeats = 1 }, "repetition.min_repeats"},
		{"trigram ratio above one", func(c *Config) { c.Repetition.MinUniqueTrigramRatio = 1.5 }, "repetition.min_unique_trigram_ratio"},
		{"overlap zero", func(c *Config) { c.OffTopic.MinOverlap = 0 }, "off_topic.min_overlap"},
		{"task overlap", func(c *Config) { c.OffTopic.MaxTaskOverlap = 2 }, "off_topic.max_task_overlap"},
		{"question terms", func(c *Config) { c.OffTopic.MinQuestionTerms = 0 }, "off_topic.min_question_terms"},
		{"empty marker", func(c *Config) { c.WorkflowInterruption.IterationMarkers = []string{""} }, "workflow_interruption.iteration_markers[0]"},
		{"leak words", func(c *Config) { c.SafetyViolation.SystemPromptLeakWords = 2 }, "safety_violation.system_prompt_leak_words"},
		{"empty deny term", func(c *Config) { c.SafetyViolation.DenyTerms = []string{""} }, "safety_violation.deny_terms[0]"},
		{"unsupported facts", func(c *Config) { c.Hallucination.MinUnsupportedFacts = 0 }, "hallucination.min_unsupported_facts"},
		{"rule without name", func(c *Config) { c.Rules = []RuleConfig{{Code: "x", Condition: "true"}} }, "rules[0].name"},
		{"rule without code", func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Condition: "true"}} }, "rules[0] (r).code"},
		{"rule bad category", func(c *Config) {
			c.Rules = []RuleConfig{{Name: "r", Code: "x", Category: "custom", Condition: "true"}}
		}, "rules[0] (r).category"},
		{"rule bad severity", func(c *Config) {
			c.Rules = []RuleConfig{{Name: "r", Code: "x", Severity: "loud", Condition: "true"}}
		}, "rules[0] (r).severity"},
		{"rule empty condition", func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Code: "x"}} }, "rules[0] (r).condition"},
		{"duplicate rule names", func(c *Config) {
			c.Rules = []RuleConfig{{Name: "r", Code: "x", Condition: "true"}, {Name: "r", Code: "y", Condition: "true"}}
		}, "rules[1] (r).name: duplicate"},
		{"unknown OTTL function", func(c *Config) {
			c.Rules = []RuleConfig{{Name: "r", Code: "x", Condition: `NoSuchFunc(attributes["a"]) == 1`}}
		}, "rules[0] (r).condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			tt.mutate(cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatalf("accepted; want an error naming %s", tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
}
