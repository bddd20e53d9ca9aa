package recordsexporter

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the records exporter's configuration.
type Config struct {
	// Path is the directory holding the bbolt file (tracehound.db).
	Path string `mapstructure:"path"`
	// API is the HTTP server of the query API and UI.
	API confighttp.ServerConfig `mapstructure:"api"`
	// DefaultProject receives spans that carry no authenticated project.
	DefaultProject string `mapstructure:"default_project"`
	// MaxBatchSpans caps the spans one store transaction commits.
	MaxBatchSpans int `mapstructure:"max_batch_spans"`
	// WriteQueueSize caps the number of export calls waiting for the store writer; beyond it
	// callers block until their timeout, which pushes back on the receivers.
	WriteQueueSize int `mapstructure:"write_queue_size"`

	exporterhelper.TimeoutConfig `mapstructure:",squash"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Path) == "" {
		errs = append(errs, errors.New("path: must name the directory for the store, e.g. ./data"))
	}
	if c.API.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("api.endpoint: must be set, e.g. 127.0.0.1:8080"))
	}
	if c.DefaultProject == "" {
		errs = append(errs, errors.New("default_project: must not be empty"))
	}
	if c.MaxBatchSpans < 1 {
		errs = append(errs, fmt.Errorf("max_batch_spans: must be at least 1, got %d", c.MaxBatchSpans))
	}
	if c.WriteQueueSize < 1 {
		errs = append(errs, fmt.Errorf("write_queue_size: must be at least 1, got %d", c.WriteQueueSize))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must not be negative, got %s", c.Timeout))
	}
	return errors.Join(errs...)
}
