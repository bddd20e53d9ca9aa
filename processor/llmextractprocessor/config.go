package llmextractprocessor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tracehound/tracehound/internal/pricing"
)

// Config configures the llmextract processor. Every field is optional: `llmextract: {}`
// works.
type Config struct {
	// KeepOriginalAttributes keeps the source-convention attributes next to the canonical
	// ones (default true). When false, the source keys that the canonical view replaces
	// are removed, which shrinks stored spans.
	KeepOriginalAttributes bool `mapstructure:"keep_original_attributes"`
	// MaxAttributeBytes caps every string attribute of a span (source and canonical);
	// longer values are cut at a UTF-8 boundary and end in "…[truncated N bytes]".
	// Message lists stay valid JSON: their longest contents are cut, then the oldest
	// messages are dropped. Default 1048576 (1 MiB).
	MaxAttributeBytes int `mapstructure:"max_attribute_bytes"`
	// DefaultProject is stamped as tracehound.project.id when the request carries no
	// authenticated project (default "default").
	DefaultProject string `mapstructure:"default_project"`
	// RunIDKeys are extra span or resource attribute keys that carry a run ID, consulted
	// after tracehound.run.id and scorecard.tracing_group_id, in the order given.
	RunIDKeys []string `mapstructure:"run_id_keys"`
	// PricesFile is an optional YAML or JSON file of model prices (US dollars per million
	// tokens) that add to or override the built-in genai-prices table.
	PricesFile string `mapstructure:"prices_file"`
}

// minAttributeBytes leaves room for the truncation marker and a readable prefix.
const minAttributeBytes = 1024

func createDefaultConfig() *Config {
	return &Config{
		KeepOriginalAttributes: true,
		MaxAttributeBytes:      1 << 20,
		DefaultProject:         "default",
	}
}

// Validate checks the configuration and names the offending field.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxAttributeBytes < minAttributeBytes {
		errs = append(errs, fmt.Errorf("max_attribute_bytes: must be at least %d, got %d", minAttributeBytes, c.MaxAttributeBytes))
	}
	if strings.TrimSpace(c.DefaultProject) == "" {
		errs = append(errs, errors.New("default_project: must not be empty"))
	}
	for i, k := range c.RunIDKeys {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("run_id_keys[%d]: must not be empty", i))
		}
	}
	if c.PricesFile != "" {
		if _, err := pricing.LoadOverrideFile(c.PricesFile); err != nil {
			errs = append(errs, fmt.Errorf("prices_file: %w", err))
		}
	}
	return errors.Join(errs...)
}
