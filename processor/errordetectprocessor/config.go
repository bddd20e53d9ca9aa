package errordetectprocessor

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Config configures the errordetect processor. Every field is optional: `errordetect: {}`
// runs all checks with the defaults documented in README.md.
type Config struct {
	// MaxEvidenceChars caps the evidence text stored with each flag (default 200).
	MaxEvidenceChars int `mapstructure:"max_evidence_chars"`

	// TraceWait, when positive, holds each incoming batch until the traces it contains
	// are complete — their root span arrived or TraceWait passed since their first span —
	// so that trace-level checks see spans sent in different batches. The sender is
	// answered at once, so held data is lost on a crash. Off (0) by default: batches are
	// then evaluated on their own and passed on synchronously. See README.md.
	TraceWait time.Duration `mapstructure:"trace_wait"`
	// MaxTraces bounds the traces held with TraceWait; beyond it the oldest is evaluated
	// early, never dropped (default 10000).
	MaxTraces int `mapstructure:"max_traces"`

	Technical            TechnicalConfig     `mapstructure:"technical"`
	Refusal              RefusalConfig       `mapstructure:"refusal"`
	EmptyOutput          CheckConfig         `mapstructure:"empty_output"`
	Repetition           RepetitionConfig    `mapstructure:"repetition"`
	OffTopic             OffTopicConfig      `mapstructure:"off_topic"`
	WorkflowInterruption WorkflowConfig      `mapstructure:"workflow_interruption"`
	SafetyViolation      SafetyConfig        `mapstructure:"safety_violation"`
	Hallucination        HallucinationConfig `mapstructure:"hallucination"`
	ContextLoss          CheckConfig         `mapstructure:"context_loss"`

	// Rules are user checks written as OTTL span conditions.
	Rules []RuleConfig `mapstructure:"rules"`
}

// CheckConfig is the switch and severity shared by every behavioral check.
type CheckConfig struct {
	Enabled  bool   `mapstructure:"enabled"`
	Severity string `mapstructure:"severity"`
}

// TechnicalConfig switches the technical-error checks (span status, exceptions, HTTP and
// provider errors, finish reasons, tool failures). Their severities are fixed: a technical
// flag always makes a record "error".
type TechnicalConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// RefusalConfig tunes the refusal check.
type RefusalConfig struct {
	CheckConfig `mapstructure:",squash"`
	// ExtraPhrases are additional case-insensitive refusal phrases (any language).
	ExtraPhrases []string `mapstructure:"extra_phrases"`
	// MaxChars: outputs longer than this (in characters) are answers that mention a
	// limitation, not refusals (default 700).
	MaxChars int `mapstructure:"max_chars"`
}

// RepetitionConfig tunes the degenerate-loop check.
type RepetitionConfig struct {
	CheckConfig `mapstructure:",squash"`
	// MinRepeats is how many times a run of words or a line must repeat back to back
	// (default 4).
	MinRepeats int `mapstructure:"min_repeats"`
	// MinLoopWords is the smallest number of words a repeated run must cover (default 20).
	MinLoopWords int `mapstructure:"min_loop_words"`
	// MinUniqueTrigramRatio flags long outputs whose share of distinct word trigrams is
	// below it (default 0.4; 0 disables this part).
	MinUniqueTrigramRatio float64 `mapstructure:"min_unique_trigram_ratio"`
	// MinWords is the output length (in words) from which the trigram ratio applies
	// (default 60).
	MinWords int `mapstructure:"min_words"`
}

// OffTopicConfig tunes the off-topic check.
type OffTopicConfig struct {
	CheckConfig `mapstructure:",squash"`
	// MinOverlap is the share of the question's key terms that the answer must contain
	// (default 0.1).
	MinOverlap float64 `mapstructure:"min_overlap"`
	// MinQuestionTerms and MinAnswerTerms skip exchanges too short to judge (defaults 4
	// and 12 key terms).
	MinQuestionTerms int `mapstructure:"min_question_terms"`
	MinAnswerTerms   int `mapstructure:"min_answer_terms"`
	// MaxTaskOverlap: an answer whose key terms overlap the system instructions by at
	// least this share is on the system task and not flagged (default 0.3).
	MaxTaskOverlap float64 `mapstructure:"max_task_overlap"`
}

// WorkflowConfig tunes the workflow-interruption check.
type WorkflowConfig struct {
	CheckConfig `mapstructure:",squash"`
	// IterationMarkers are case-insensitive texts that mean an agent hit its step limit,
	// searched in status messages, exceptions, error.type and non-LLM span outputs.
	// Setting the list replaces the defaults.
	IterationMarkers []string `mapstructure:"iteration_markers"`
}

// SafetyConfig tunes the safety-violation check.
type SafetyConfig struct {
	CheckConfig `mapstructure:",squash"`
	PII         bool `mapstructure:"pii"`
	Secrets     bool `mapstructure:"secrets"`
	// PromptInjection flags chat-template tokens and injection payloads echoed in outputs.
	PromptInjection bool `mapstructure:"prompt_injection"`
	// SystemPromptLeak flags outputs that repeat SystemPromptLeakWords consecutive words
	// of the system instructions (quoted text in the instructions is exempt).
	SystemPromptLeak      bool `mapstructure:"system_prompt_leak"`
	SystemPromptLeakWords int  `mapstructure:"system_prompt_leak_words"`
	// DenyTerms are case-insensitive words or phrases that must never appear in an output.
	DenyTerms []string `mapstructure:"deny_terms"`
}

// HallucinationConfig tunes the ungrounded-output check.
type HallucinationConfig struct {
	CheckConfig `mapstructure:",squash"`
	Numbers     bool `mapstructure:"numbers"`
	URLs        bool `mapstructure:"urls"`
	Entities    bool `mapstructure:"entities"`
	// MinUnsupportedFacts is how many numbers and URLs without support raise the flag
	// (default 1); MinUnsupportedEntities the same for names (default 2).
	MinUnsupportedFacts    int `mapstructure:"min_unsupported_facts"`
	MinUnsupportedEntities int `mapstructure:"min_unsupported_entities"`
}

// RuleConfig is one user rule.
type RuleConfig struct {
	Name     string `mapstructure:"name"`
	Code     string `mapstructure:"code"`
	Category string `mapstructure:"category"`
	Severity string `mapstructure:"severity"`
	Message  string `mapstructure:"message"`
	// Condition is an OTTL span condition, e.g. attributes["gen_ai.usage.output_tokens"] > 2000.
	Condition string `mapstructure:"condition"`
}

func createDefaultConfig() *Config {
	return &Config{
		MaxEvidenceChars: 200,
		MaxTraces:        10000,
		Technical:        TechnicalConfig{Enabled: true},
		Refusal: RefusalConfig{
			CheckConfig: CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
			MaxChars:    700,
		},
		EmptyOutput: CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
		Repetition: RepetitionConfig{
			CheckConfig:           CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
			MinRepeats:            4,
			MinLoopWords:          20,
			MinUniqueTrigramRatio: 0.4,
			MinWords:              60,
		},
		OffTopic: OffTopicConfig{
			CheckConfig:      CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
			MinOverlap:       0.1,
			MinQuestionTerms: 4,
			MinAnswerTerms:   12,
			MaxTaskOverlap:   0.3,
		},
		WorkflowInterruption: WorkflowConfig{
			CheckConfig:      CheckConfig{Enabled: true, Severity: llmschema.SeverityError},
			IterationMarkers: append([]string(nil), defaultIterationMarkers...),
		},
		SafetyViolation: SafetyConfig{
			CheckConfig:           CheckConfig{Enabled: true, Severity: llmschema.SeverityError},
			PII:                   true,
			Secrets:               true,
			PromptInjection:       true,
			SystemPromptLeak:      true,
			SystemPromptLeakWords: 15,
		},
		Hallucination: HallucinationConfig{
			CheckConfig:            CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
			Numbers:                true,
			URLs:                   true,
			Entities:               true,
			MinUnsupportedFacts:    1,
			MinUnsupportedEntities: 2,
		},
		ContextLoss: CheckConfig{Enabled: true, Severity: llmschema.SeverityWarning},
	}
}

// maxTraceWait keeps senders from waiting longer than their export timeouts allow (the
// OTel SDKs default to 10 s for an export).
const maxTraceWait = time.Minute

var defaultIterationMarkers = []string{
	"max iterations", "max_iterations", "maximum iterations", "iteration limit",
	"max turns", "max_turns", "maxturnsexceeded", "maximum number of turns",
	"recursion limit", "graphrecursionerror", "max steps", "max_steps", "step limit",
}

func validSeverity(s string) bool {
	switch s {
	case llmschema.SeverityInfo, llmschema.SeverityWarning, llmschema.SeverityError, llmschema.SeverityCritical:
		return true
	}
	return false
}

func checkSeverity(field, s string) error {
	if !validSeverity(s) {
		return fmt.Errorf("%s.severity: must be one of info, warning, error, critical, got %q", field, s)
	}
	return nil
}

// Validate checks the configuration and names the offending field. Rule conditions are
// parsed here so that a bad OTTL expression stops the collector at startup.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxEvidenceChars < 20 {
		errs = append(errs, fmt.Errorf("max_evidence_chars: must be at least 20, got %d", c.MaxEvidenceChars))
	}
	if c.TraceWait < 0 || c.TraceWait > maxTraceWait {
		errs = append(errs, fmt.Errorf("trace_wait: must be between 0 (off) and %s, got %s", maxTraceWait, c.TraceWait))
	}
	if c.TraceWait > 0 && c.MaxTraces < 1 {
		errs = append(errs, fmt.Errorf("max_traces: must be positive when trace_wait is on, got %d", c.MaxTraces))
	}
	for field, s := range map[string]string{
		"refusal":               c.Refusal.Severity,
		"empty_output":          c.EmptyOutput.Severity,
		"repetition":            c.Repetition.Severity,
		"off_topic":             c.OffTopic.Severity,
		"workflow_interruption": c.WorkflowInterruption.Severity,
		"safety_violation":      c.SafetyViolation.Severity,
		"hallucination":         c.Hallucination.Severity,
		"context_loss":          c.ContextLoss.Severity,
	} {
		if err := checkSeverity(field, s); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Refusal.MaxChars < 1 {
		errs = append(errs, fmt.Errorf("refusal.max_chars: must be positive, got %d", c.Refusal.MaxChars))
	}
	for i, p := range c.Refusal.ExtraPhrases {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("refusal.extra_phrases[%d]: must not be empty", i))
		}
	}
	if c.Repetition.MinRepeats < 2 {
		errs = append(errs, fmt.Errorf("repetition.min_repeats: must be at least 2, got %d", c.Repetition.MinRepeats))
	}
	if c.Repetition.MinLoopWords < 1 {
		errs = append(errs, fmt.Errorf("repetition.min_loop_words: must be positive, got %d", c.Repetition.MinLoopWords))
	}
	if r := c.Repetition.MinUniqueTrigramRatio; r < 0 || r > 1 {
		errs = append(errs, fmt.Errorf("repetition.min_unique_trigram_ratio: must be within [0, 1], got %g", r))
	}
	if c.Repetition.MinWords < 3 {
		errs = append(errs, fmt.Errorf("repetition.min_words: must be at least 3, got %d", c.Repetition.MinWords))
	}
	if r := c.OffTopic.MinOverlap; r <= 0 || r > 1 {
		errs = append(errs, fmt.Errorf("off_topic.min_overlap: must be within (0, 1], got %g", r))
	}
	if r := c.OffTopic.MaxTaskOverlap; r <= 0 || r > 1 {
		errs = append(errs, fmt.Errorf("off_topic.max_task_overlap: must be within (0, 1], got %g", r))
	}
	if c.OffTopic.MinQuestionTerms < 1 {
		errs = append(errs, fmt.Errorf("off_topic.min_question_terms: must be positive, got %d", c.OffTopic.MinQuestionTerms))
	}
	if c.OffTopic.MinAnswerTerms < 1 {
		errs = append(errs, fmt.Errorf("off_topic.min_answer_terms: must be positive, got %d", c.OffTopic.MinAnswerTerms))
	}
	for i, m := range c.WorkflowInterruption.IterationMarkers {
		if strings.TrimSpace(m) == "" {
			errs = append(errs, fmt.Errorf("workflow_interruption.iteration_markers[%d]: must not be empty", i))
		}
	}
	if c.SafetyViolation.SystemPromptLeak && c.SafetyViolation.SystemPromptLeakWords < 5 {
		errs = append(errs, fmt.Errorf("safety_violation.system_prompt_leak_words: must be at least 5, got %d", c.SafetyViolation.SystemPromptLeakWords))
	}
	for i, t := range c.SafetyViolation.DenyTerms {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("safety_violation.deny_terms[%d]: must not be empty", i))
		}
	}
	if c.Hallucination.MinUnsupportedFacts < 1 {
		errs = append(errs, fmt.Errorf("hallucination.min_unsupported_facts: must be positive, got %d", c.Hallucination.MinUnsupportedFacts))
	}
	if c.Hallucination.MinUnsupportedEntities < 1 {
		errs = append(errs, fmt.Errorf("hallucination.min_unsupported_entities: must be positive, got %d", c.Hallucination.MinUnsupportedEntities))
	}
	errs = append(errs, c.validateRules()...)
	return errors.Join(errs...)
}

func (c *Config) validateRules() []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range c.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			errs = append(errs, fmt.Errorf("%s.name: must not be empty", field))
		} else {
			field = fmt.Sprintf("rules[%d] (%s)", i, r.Name)
			if seen[r.Name] {
				errs = append(errs, fmt.Errorf("%s.name: duplicate rule name", field))
			}
			seen[r.Name] = true
		}
		if strings.TrimSpace(r.Code) == "" {
			errs = append(errs, fmt.Errorf("%s.code: must not be empty", field))
		}
		if r.Category != "" && r.Category != llmschema.CategoryTechnical && r.Category != llmschema.CategoryBehavioral {
			errs = append(errs, fmt.Errorf("%s.category: must be technical or behavioral, got %q", field, r.Category))
		}
		if r.Severity != "" {
			if err := checkSeverity(field, r.Severity); err != nil {
				errs = append(errs, err)
			}
		}
		if strings.TrimSpace(r.Condition) == "" {
			errs = append(errs, fmt.Errorf("%s.condition: must not be empty", field))
			continue
		}
		if _, err := parseCondition(nopTelemetry(), r.Condition); err != nil {
			errs = append(errs, fmt.Errorf("%s.condition: %w", field, err))
		}
	}
	return errs
}
