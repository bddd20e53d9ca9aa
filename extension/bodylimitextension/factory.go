// Package bodylimitextension is an HTTP server middleware that answers requests whose declared
// body is larger than a limit with 413 Request Entity Too Large before any of it is read. The
// stock OTLP receiver reports an oversized body as a generic 400; clients and load balancers
// can only back off correctly on a 413.
package bodylimitextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

const typeStr = "bodylimit"

// NewFactory creates the bodylimit extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(component.MustNewType(typeStr), createDefaultConfig, createExtension, component.StabilityLevelAlpha)
}

func createDefaultConfig() component.Config {
	return &Config{MaxRequestBodySize: 20 << 20}
}

func createExtension(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
	return &bodyLimit{max: cfg.(*Config).MaxRequestBodySize}, nil
}
