// Package bearerauthextension is tracehound's server authenticator: it maps API keys to
// project IDs and puts the caller's project into the request's client.Info.
package bearerauthextension // import "github.com/tracehound/tracehound/extension/bearerauthextension"

import (
	"context"
	"os"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/tracehound/tracehound/internal/apikeys"
)

const (
	typeStr   = "bearerauth"
	stability = component.StabilityLevelAlpha

	defaultReloadInterval = time.Second
)

var componentType = component.MustNewType(typeStr)

// NewFactory returns the factory of the bearerauth extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(componentType, createDefaultConfig, createExtension, stability)
}

func createDefaultConfig() component.Config {
	return &Config{
		KeysFile:           apikeys.DefaultFile,
		GenerateKeyIfEmpty: true,
		ReloadInterval:     defaultReloadInterval,
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newAuthenticator(cfg.(*Config), set.Logger, os.Stderr), nil
}
