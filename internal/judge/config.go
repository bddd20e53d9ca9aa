package judge

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the metrics section of the records exporter: metric definitions that apply to
// every project, the default judge endpoint, and how the background worker polls.
type Config struct {
	// Definitions are metrics that apply to every project; the API shows them read-only.
	Definitions []Metric `mapstructure:"definitions"`
	// Judge is the default OpenAI-compatible endpoint and the client's limits.
	Judge JudgeConfig `mapstructure:"judge"`
	// PollInterval is how often the worker looks for new and updated records.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Settle is how long a record must stay unchanged (no late spans) before it is judged.
	Settle time.Duration `mapstructure:"settle"`
	// Lookback is how far back (by record start time) the worker keeps watching records for
	// changes, and where it starts in a project it has never seen.
	Lookback time.Duration `mapstructure:"lookback"`
	// DisableWorker keeps this node from judging records (the API still manages metrics).
	// With several replicas on one PostgreSQL database, leave the worker on in exactly one,
	// or every replica judges every record.
	DisableWorker bool `mapstructure:"disable_worker"`
	// MaxFieldChars bounds each text (input, output, conversation, documents, ...) rendered
	// into a judge prompt.
	MaxFieldChars int `mapstructure:"max_field_chars"`
}

// JudgeConfig is the default judge endpoint and the client's limits.
type JudgeConfig struct {
	// Endpoint is the base URL of an OpenAI-compatible API; the client POSTs to
	// {endpoint}/chat/completions (e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1).
	Endpoint string `mapstructure:"endpoint"`
	// Model is the judge model used by metrics that do not name one.
	Model string `mapstructure:"model"`
	// APIKeyEnv names the environment variable holding the API key ("" sends no key).
	APIKeyEnv string `mapstructure:"api_key_env"`
	// Timeout bounds one judge request.
	Timeout time.Duration `mapstructure:"timeout"`
	// Concurrency caps judge requests in flight.
	Concurrency int `mapstructure:"concurrency"`
	// MaxRequestsPerMinute caps the request rate; 0 is no limit.
	MaxRequestsPerMinute int `mapstructure:"max_requests_per_minute"`
	// MaxRetries is how often a request is retried after a 429, a 5xx or a network error.
	MaxRetries int `mapstructure:"max_retries"`
	// AllowedAPIKeyEnvs are the environment variables that metrics created through the API
	// may name in api_key_env, besides api_key_env above and those of the definitions. Any
	// other name is refused, so that an API caller cannot read the server's environment.
	AllowedAPIKeyEnvs []string `mapstructure:"allowed_api_key_envs"`
	// AllowCustomEndpoints lets metrics created through the API name their own endpoint;
	// when false they always use the endpoints of this configuration.
	AllowCustomEndpoints bool `mapstructure:"allow_custom_endpoints"`
}

// NewDefaultConfig is the configuration of `metrics: {}`: no metrics, a local Ollama as the
// default judge (so nothing leaves the machine unless configured).
func NewDefaultConfig() Config {
	return Config{
		Judge: JudgeConfig{
			Endpoint:    "http://127.0.0.1:11434/v1",
			Model:       "llama3.1",
			Timeout:     60 * time.Second,
			Concurrency: 4,
			MaxRetries:  3,
		},
		PollInterval:  5 * time.Second,
		Settle:        10 * time.Second,
		Lookback:      15 * time.Minute,
		MaxFieldChars: 20000,
	}
}

// withDefaults fills zero values, so that a Config built in code (not through the factory)
// behaves like the documented defaults.
func (c Config) withDefaults() Config {
	d := NewDefaultConfig()
	if c.Judge.Endpoint == "" {
		c.Judge.Endpoint = d.Judge.Endpoint
	}
	if c.Judge.Model == "" {
		c.Judge.Model = d.Judge.Model
	}
	if c.Judge.Timeout == 0 {
		c.Judge.Timeout = d.Judge.Timeout
	}
	if c.Judge.Concurrency == 0 {
		c.Judge.Concurrency = d.Judge.Concurrency
	}
	if c.PollInterval == 0 {
		c.PollInterval = d.PollInterval
	}
	if c.Settle == 0 {
		c.Settle = d.Settle
	}
	if c.Lookback == 0 {
		c.Lookback = d.Lookback
	}
	if c.MaxFieldChars == 0 {
		c.MaxFieldChars = d.MaxFieldChars
	}
	return c
}

// Validate checks the configuration; errors name the field under metrics.
func (c *Config) Validate() error {
	var errs []error
	if err := validEndpoint(c.Judge.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("metrics.judge.endpoint: %w", err))
	}
	if strings.TrimSpace(c.Judge.Model) == "" {
		errs = append(errs, errors.New("metrics.judge.model: must name the default judge model, e.g. gpt-4o-mini"))
	}
	if err := validEnvName(c.Judge.APIKeyEnv); err != nil {
		errs = append(errs, fmt.Errorf("metrics.judge.api_key_env: %w", err))
	}
	for i, name := range c.Judge.AllowedAPIKeyEnvs {
		if err := validEnvName(name); err != nil || name == "" {
			if err == nil {
				err = errors.New("must not be empty")
			}
			errs = append(errs, fmt.Errorf("metrics.judge.allowed_api_key_envs[%d]: %w", i, err))
		}
	}
	if c.Judge.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("metrics.judge.timeout: must be positive, got %s", c.Judge.Timeout))
	}
	if c.Judge.Concurrency < 1 || c.Judge.Concurrency > 256 {
		errs = append(errs, fmt.Errorf("metrics.judge.concurrency: must be from 1 to 256, got %d", c.Judge.Concurrency))
	}
	if c.Judge.MaxRequestsPerMinute < 0 {
		errs = append(errs, fmt.Errorf("metrics.judge.max_requests_per_minute: must not be negative (0 is no limit), got %d", c.Judge.MaxRequestsPerMinute))
	}
	if c.Judge.MaxRetries < 0 || c.Judge.MaxRetries > 10 {
		errs = append(errs, fmt.Errorf("metrics.judge.max_retries: must be from 0 to 10, got %d", c.Judge.MaxRetries))
	}
	if c.PollInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("metrics.poll_interval: must be at least 100ms, got %s", c.PollInterval))
	}
	if c.Settle < 0 {
		errs = append(errs, fmt.Errorf("metrics.settle: must not be negative, got %s", c.Settle))
	}
	if c.Lookback < time.Minute {
		errs = append(errs, fmt.Errorf("metrics.lookback: must be at least 1m, got %s", c.Lookback))
	}
	if c.MaxFieldChars < 100 {
		errs = append(errs, fmt.Errorf("metrics.max_field_chars: must be at least 100, got %d", c.MaxFieldChars))
	}
	seen := map[string]bool{}
	for i := range c.Definitions {
		m, err := c.Definitions[i].normalize()
		if err != nil {
			errs = append(errs, fmt.Errorf("metrics.definitions[%d].%w", i, err))
			continue
		}
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("metrics.definitions[%d].name: %q is defined twice", i, m.Name))
		}
		seen[m.Name] = true
	}
	return errors.Join(errs...)
}

// validEndpoint accepts an absolute http(s) URL without credentials.
func validEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http(s) base URL such as https://api.openai.com/v1, got %q", s)
	}
	if u.User != nil {
		return errors.New("must not contain credentials; put the key in the variable named by api_key_env")
	}
	return nil
}

// validEnvName accepts "" or a POSIX-style variable name.
func validEnvName(s string) error {
	for i, r := range s {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("want the name of an environment variable (letters, digits, _), got %q", s)
		}
	}
	return nil
}

// apiKey reads the key from the named environment variable at call time, so that a
// rotated key is picked up without a restart and the key never sits in a struct.
func apiKey(env string) string {
	if env == "" {
		return ""
	}
	return os.Getenv(env)
}
