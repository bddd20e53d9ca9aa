package llmproxyreceiver

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"

	"go.opentelemetry.io/collector/config/confighttp"
)

// API dialects an upstream can speak. They decide the error format for requests the
// proxy answers itself on paths it does not parse.
const (
	apiOpenAI    = "openai"
	apiAnthropic = "anthropic"
)

const (
	defaultEndpoint            = "127.0.0.1:4319"
	defaultOpenAIURL           = "https://api.openai.com"
	defaultAnthropicURL        = "https://api.anthropic.com"
	defaultMaxRequestBodyBytes = 20 << 20
	defaultMaxCaptureBytes     = 16 << 20
	defaultQueueSize           = 1000
	defaultQueueMaxBytes       = 256 << 20
	defaultQueueWorkers        = 2
)

// upstreamNamePattern keeps names usable as the first path segment.
var upstreamNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Config is the llmproxy receiver's configuration.
type Config struct {
	// ServerConfig is the listener (endpoint, TLS, CORS, timeouts). Its auth section
	// names the authenticator that maps the project key to a project; the proxy calls
	// that authenticator itself so that failures come back in the provider's format.
	confighttp.ServerConfig `mapstructure:",squash"`

	// Upstreams are the only hosts the proxy forwards to, by name.
	Upstreams map[string]UpstreamConfig `mapstructure:"upstreams"`

	// Passthrough forwards requests on paths the proxy does not parse (files,
	// audio, batches, ...) to the selected upstream without tracing them.
	Passthrough bool `mapstructure:"passthrough"`

	// MaxRequestBodyBytes bounds a request body; a larger body is answered with 413.
	MaxRequestBodyBytes int64 `mapstructure:"max_request_body_bytes"`

	// MaxCaptureBytes bounds how much of one response the proxy keeps for parsing.
	// The client always gets the whole response.
	MaxCaptureBytes int64 `mapstructure:"max_capture_bytes"`

	// Queue bounds the spans waiting for the pipeline.
	Queue QueueConfig `mapstructure:"queue"`

	_ struct{}
}

// UpstreamConfig is one provider endpoint.
type UpstreamConfig struct {
	// URL is the upstream's origin plus an optional base path; the client's path
	// (/v1/...) is appended to it.
	URL string `mapstructure:"url"`
	// API is the dialect the upstream speaks: openai or anthropic.
	API string `mapstructure:"api"`
	// Provider is written as gen_ai.provider.name; it defaults to the upstream's name.
	Provider string `mapstructure:"provider"`
	// ClientConfig tunes the HTTP client (TLS, proxy_url, timeout, keepalive, ...).
	// Its endpoint is not used: set url.
	confighttp.ClientConfig `mapstructure:",squash"`

	_ struct{}
}

// QueueConfig bounds the hand-off between finished calls and the traces pipeline.
type QueueConfig struct {
	// Size is the most calls waiting for the pipeline; beyond it calls are dropped
	// (and counted) instead of emitted.
	Size int `mapstructure:"size"`
	// MaxBytes bounds the request and response bytes held by waiting calls.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// Workers is how many goroutines hand spans to the pipeline.
	Workers int `mapstructure:"workers"`

	_ struct{}
}

// Validate checks the configuration and names the offending field.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	}
	if cfg.MaxRequestBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_request_body_bytes: must be positive, got %d", cfg.MaxRequestBodyBytes))
	}
	if cfg.ServerConfig.MaxRequestBodySize != 0 && cfg.ServerConfig.MaxRequestBodySize != cfg.MaxRequestBodyBytes {
		errs = append(errs, errors.New("max_request_body_size: not used by llmproxy, set max_request_body_bytes instead"))
	}
	if cfg.MaxCaptureBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_capture_bytes: must be positive, got %d", cfg.MaxCaptureBytes))
	}
	if cfg.Queue.Size <= 0 {
		errs = append(errs, fmt.Errorf("queue.size: must be positive, got %d", cfg.Queue.Size))
	}
	if cfg.Queue.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("queue.max_bytes: must be positive, got %d", cfg.Queue.MaxBytes))
	}
	if cfg.Queue.Workers <= 0 {
		errs = append(errs, fmt.Errorf("queue.workers: must be positive, got %d", cfg.Queue.Workers))
	}
	if len(cfg.Upstreams) == 0 {
		errs = append(errs, errors.New("upstreams: at least one upstream is required"))
	}
	names := make([]string, 0, len(cfg.Upstreams))
	for name := range cfg.Upstreams {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u := cfg.Upstreams[name]
		field := "upstreams." + name
		if !upstreamNamePattern.MatchString(name) {
			errs = append(errs, fmt.Errorf("%s: name must match %s (it is used as a path segment)", field, upstreamNamePattern))
		}
		if name == "v1" {
			errs = append(errs, fmt.Errorf("%s: the name v1 is reserved for unprefixed paths", field))
		}
		if u.ClientConfig.Endpoint != "" {
			errs = append(errs, fmt.Errorf("%s.endpoint: not used, set %s.url", field, field))
		}
		if err := validateUpstreamURL(u.resolvedURL(name)); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", field, err))
		}
		switch u.resolvedAPI(name) {
		case apiOpenAI, apiAnthropic:
		default:
			errs = append(errs, fmt.Errorf("%s.api: must be %q or %q, got %q", field, apiOpenAI, apiAnthropic, u.API))
		}
	}
	return errors.Join(errs...)
}

func validateUpstreamURL(raw string) error {
	if raw == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https in %q", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("missing host in %q", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("must not carry a query, fragment or user info: %q", raw)
	}
	return nil
}

// resolvedURL applies the well-known default for the openai and anthropic names.
func (u UpstreamConfig) resolvedURL(name string) string {
	if u.URL != "" {
		return u.URL
	}
	switch name {
	case apiOpenAI:
		return defaultOpenAIURL
	case apiAnthropic:
		return defaultAnthropicURL
	}
	return ""
}

// resolvedAPI defaults to the name for openai and anthropic, and to openai otherwise:
// most self-hosted servers (Ollama, vLLM, LiteLLM) speak the OpenAI dialect.
func (u UpstreamConfig) resolvedAPI(name string) string {
	if u.API != "" {
		return u.API
	}
	if name == apiAnthropic {
		return apiAnthropic
	}
	return apiOpenAI
}

func (u UpstreamConfig) resolvedProvider(name string) string {
	if u.Provider != "" {
		return u.Provider
	}
	return name
}
