// Package pathaliasextension is an HTTP server middleware that serves the same handlers under
// extra path prefixes, so the stock OTLP receiver answers /otel/v1/traces as well as
// /v1/traces on one port (clients configured with an endpoint ending in /otel).
package pathaliasextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

const typeStr = "pathalias"

// NewFactory creates the pathalias extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		component.MustNewType(typeStr),
		createDefaultConfig,
		createExtension,
		component.StabilityLevelAlpha,
	)
}

func createDefaultConfig() component.Config {
	return &Config{StripPrefixes: []string{"/otel"}}
}

func createExtension(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newPathAlias(cfg.(*Config)), nil
}
