// Package recordsexporter assembles spans into trace-level LLM records, persists them in an
// embedded bbolt store and serves the records HTTP API.
package recordsexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/tracehound/tracehound/internal/judge"
	"github.com/tracehound/tracehound/internal/llmschema"
)

const (
	typeStr   = "records"
	stability = component.StabilityLevelAlpha
)

// NewFactory creates the records exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		component.MustNewType(typeStr),
		createDefaultConfig,
		exporter.WithTraces(createTraces, stability),
	)
}

func createDefaultConfig() component.Config {
	api := confighttp.NewDefaultServerConfig()
	api.NetAddr.Endpoint = "127.0.0.1:8080"
	timeout := exporterhelper.NewDefaultTimeoutConfig()
	timeout.Timeout = 30 * time.Second
	return &Config{
		Path:           "./data",
		API:            api,
		DefaultProject: llmschema.DefaultProject,
		MaxBatchSpans:  20000,
		WriteQueueSize: 256,
		Retention: RetentionConfig{
			MaxAge:        720 * time.Hour,
			CheckInterval: 5 * time.Minute,
		},
		Metrics:       judge.NewDefaultConfig(),
		TimeoutConfig: timeout,
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	return wrapTraces(ctx, set, c, newRecordsExporter(c, set.TelemetrySettings))
}

func wrapTraces(ctx context.Context, set exporter.Settings, c *Config, e *recordsExporter) (exporter.Traces, error) {
	return exporterhelper.NewTraces(ctx, set, c, e.pushTraces,
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
	)
}
