package recordsexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/tracehound/tracehound/internal/judge"
)

// Config is the records exporter's configuration.
type Config struct {
	// Store is the backend: "bbolt" (default; the file under path, one node) or "postgres"
	// (one database shared by any number of replicas, see postgres.dsn).
	Store string `mapstructure:"store"`
	// Postgres configures the PostgreSQL backend.
	Postgres PostgresConfig `mapstructure:"postgres"`
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

	// Retention deletes old records and keeps the store under a size.
	Retention RetentionConfig `mapstructure:"retention"`

	// Metrics are AI-judge metrics evaluated in the background (see internal/judge, docs/metrics.md).
	Metrics judge.Config `mapstructure:"metrics"`

	exporterhelper.TimeoutConfig `mapstructure:",squash"`
}

// Store backends.
const (
	StoreBBolt    = "bbolt"
	StorePostgres = "postgres"
)

// PostgresConfig is the PostgreSQL backend's connection.
type PostgresConfig struct {
	// DSN is a libpq/pgx connection string, e.g. postgres://tracehound:secret@db:5432/tracehound
	// (pool_max_conns=N sets the pool size).
	DSN configopaque.String `mapstructure:"dsn"`
}

// RetentionConfig bounds the store by age and by size; the oldest records go first.
type RetentionConfig struct {
	// MaxAge deletes records that started longer ago; 0 keeps them forever.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxSizeMiB deletes the oldest records while live data exceeds it; 0 is no limit.
	MaxSizeMiB int64 `mapstructure:"max_size_mib"`
	// CheckInterval is how often retention runs.
	CheckInterval time.Duration `mapstructure:"check_interval"`
}

func (r RetentionConfig) enabled() bool { return r.MaxAge > 0 || r.MaxSizeMiB > 0 }

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	switch c.Store {
	case "", StoreBBolt:
		if c.Postgres.DSN != "" {
			errs = append(errs, errors.New("postgres.dsn: set, but store is bbolt; add store: postgres to use it"))
		}
	case StorePostgres:
		if strings.TrimSpace(string(c.Postgres.DSN)) == "" {
			errs = append(errs, errors.New("postgres.dsn: must be set when store is postgres, e.g. postgres://tracehound@db:5432/tracehound"))
		}
		if c.Retention.MaxSizeMiB > 0 {
			errs = append(errs, errors.New("retention.max_size_mib: not supported with store postgres (size the database instead); use retention.max_age"))
		}
	default:
		errs = append(errs, fmt.Errorf("store: must be bbolt or postgres, got %q", c.Store))
	}
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
	if c.Retention.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("retention.max_age: must not be negative (0 keeps records forever), got %s", c.Retention.MaxAge))
	}
	if c.Retention.MaxSizeMiB < 0 {
		errs = append(errs, fmt.Errorf("retention.max_size_mib: must not be negative (0 is no limit), got %d", c.Retention.MaxSizeMiB))
	}
	if c.Retention.enabled() && c.Retention.CheckInterval < time.Second {
		errs = append(errs, fmt.Errorf("retention.check_interval: must be at least 1s, got %s", c.Retention.CheckInterval))
	}
	if err := c.validateMetrics(); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must not be negative, got %s", c.Timeout))
	}
	return errors.Join(errs...)
}
