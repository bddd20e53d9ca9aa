// Package judge evaluates tracehound records with an LLM judge: metric definitions (from the
// collector configuration and, per project, from the API), prompt templates, an
// OpenAI-compatible client, and the background worker that writes the verdicts as scores.
package judge

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Output types of a metric: what the judge answers and how the score is stored.
const (
	// OutputBoolean: the judge answers PASS or FAIL; the score's value is true or false.
	OutputBoolean = "boolean"
	// OutputScale15: the judge answers an integer from 1 (worst) to 5 (best).
	OutputScale15 = "scale_1_5"
	// OutputFloat01: the judge answers a number from 0 (worst) to 1 (best).
	OutputFloat01 = "float_0_1"
)

// ScoreSource is the source of every score the worker writes.
const ScoreSource = "judge"

// Metric is one AI-judge metric. The same shape is read from the collector configuration and
// from the API body, and stored per project (object kind "metric").
type Metric struct {
	// Name is the score's name on records.
	Name string `mapstructure:"name" json:"name"`
	// Builtin names a built-in template (off_topic, hallucination, safety, context_loss,
	// task_completion) that fills every field left empty.
	Builtin     string `mapstructure:"builtin" json:"builtin,omitempty"`
	Description string `mapstructure:"description" json:"description,omitempty"`
	// Prompt is a Go text/template (or {{input}}-style placeholders) rendered per record.
	Prompt     string `mapstructure:"prompt" json:"prompt,omitempty"`
	OutputType string `mapstructure:"output_type" json:"output_type,omitempty"`
	// PassThreshold is the lowest passing value for scale_1_5 (default 4) and float_0_1
	// (default 0.5); unused for boolean.
	PassThreshold *float64 `mapstructure:"pass_threshold" json:"pass_threshold,omitempty"`
	// Filter selects records with the records filter language, e.g. "source=otlp meta.env=prod".
	Filter string `mapstructure:"filter" json:"filter,omitempty"`
	// SampleRate is the share of matching records judged, from 0 to 1 (default 1).
	SampleRate *float64 `mapstructure:"sample_rate" json:"sample_rate,omitempty"`
	// Model, Endpoint and APIKeyEnv override the judge defaults.
	Model     string `mapstructure:"model" json:"model,omitempty"`
	Endpoint  string `mapstructure:"endpoint" json:"endpoint,omitempty"`
	APIKeyEnv string `mapstructure:"api_key_env" json:"api_key_env,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `mapstructure:"enabled" json:"enabled,omitempty"`
	// Flag, when set, describes the flag a failing verdict raises.
	Flag *FlagSpec `mapstructure:"flag" json:"flag,omitempty"`
}

// FlagSpec is the behavioral flag a failing verdict raises.
type FlagSpec struct {
	Code     string `mapstructure:"code" json:"code"`
	Severity string `mapstructure:"severity" json:"severity,omitempty"`
	Message  string `mapstructure:"message" json:"message,omitempty"`
}

// IsEnabled reports whether the metric runs.
func (m *Metric) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

// Threshold is the effective pass threshold.
func (m *Metric) Threshold() float64 {
	if m.PassThreshold != nil {
		return *m.PassThreshold
	}
	switch m.OutputType {
	case OutputScale15:
		return 4
	case OutputFloat01:
		return 0.5
	}
	return 0
}

// Rate is the effective sample rate.
func (m *Metric) Rate() float64 {
	if m.SampleRate != nil {
		return *m.SampleRate
	}
	return 1
}

// fieldError names the offending field; callers prefix it with where the metric came from.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func badField(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// normalize applies the built-in template and defaults and checks every field; the error
// names the field. It does not check the filter expression (that needs the records filter
// parser, see Service).
func (m Metric) normalize() (Metric, error) {
	if m.Flag != nil {
		f := *m.Flag
		m.Flag = &f
	}
	if m.Builtin != "" {
		b, ok := builtins[m.Builtin]
		if !ok {
			return m, badField("builtin", "unknown built-in %q (want one of %s)", m.Builtin, strings.Join(BuiltinNames(), ", "))
		}
		m = b.apply(m)
	}
	if err := validName(m.Name); err != nil {
		return m, err
	}
	if strings.TrimSpace(m.Prompt) == "" {
		return m, badField("prompt", "must be set (a template using {{.Input}}, {{.Output}}, ...) unless builtin is")
	}
	if len(m.Prompt) > 64<<10 {
		return m, badField("prompt", "must be at most 64 KiB, got %d bytes", len(m.Prompt))
	}
	if _, err := parseTemplate(m.Name, m.Prompt); err != nil {
		return m, badField("prompt", "%v", err)
	}
	if m.OutputType == "" {
		m.OutputType = OutputBoolean
	}
	switch m.OutputType {
	case OutputBoolean:
		if m.PassThreshold != nil {
			return m, badField("pass_threshold", "not used with output_type boolean (PASS passes); remove it")
		}
	case OutputScale15:
		if t := m.PassThreshold; t != nil && (*t < 1 || *t > 5) {
			return m, badField("pass_threshold", "want a number from 1 to 5 for scale_1_5, got %v", *t)
		}
	case OutputFloat01:
		if t := m.PassThreshold; t != nil && (*t < 0 || *t > 1) {
			return m, badField("pass_threshold", "want a number from 0 to 1 for float_0_1, got %v", *t)
		}
	default:
		return m, badField("output_type", "want boolean, scale_1_5 or float_0_1, got %q", m.OutputType)
	}
	if r := m.SampleRate; r != nil && (*r < 0 || *r > 1 || *r != *r) {
		return m, badField("sample_rate", "want a number from 0 to 1, got %v", *r)
	}
	if m.Endpoint != "" {
		if err := validEndpoint(m.Endpoint); err != nil {
			return m, badField("endpoint", "%v", err)
		}
	}
	if err := validEnvName(m.APIKeyEnv); err != nil {
		return m, badField("api_key_env", "%v", err)
	}
	if len(m.Description) > 4096 {
		return m, badField("description", "must be at most 4096 characters")
	}
	if len(m.Filter) > 4096 {
		return m, badField("filter", "must be at most 4096 characters")
	}
	if f := m.Flag; f != nil {
		if err := validName(f.Code); err != nil {
			return m, badField("flag.code", "want a flag code such as off_topic, got %q", f.Code)
		}
		if f.Severity == "" {
			f.Severity = llmschema.SeverityWarning
		}
		switch f.Severity {
		case llmschema.SeverityInfo, llmschema.SeverityWarning, llmschema.SeverityError, llmschema.SeverityCritical:
		default:
			return m, badField("flag.severity", "want info, warning, error or critical, got %q", f.Severity)
		}
		if len(f.Message) > 1024 {
			return m, badField("flag.message", "must be at most 1024 characters")
		}
	}
	return m, nil
}

func validName(s string) error {
	if s == "" || len(s) > 64 {
		return badField("name", "want 1 to 64 characters, got %q", s)
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return badField("name", "%q may contain only letters, digits, _, - and . (it becomes a score name and appears in filters like metric=%s>0.5)", s, s)
		}
	}
	return nil
}
