package bearerauthextension

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

func TestFactory_DefaultsAndLifecycle(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "bearerauth", f.Type().String())

	cfg := f.CreateDefaultConfig().(*Config)
	assert.Equal(t, &Config{KeysFile: "./data/keys.yaml", GenerateKeyIfEmpty: true, ReloadInterval: time.Second}, cfg)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, confmap.Validate(cfg))

	cfg.KeysFile = filepath.Join(t.TempDir(), "keys.yaml")
	cfg.Keys = []KeyConfig{{Key: alphaKey, Project: "alpha"}}
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	server, ok := ext.(extensionauth.Server)
	require.True(t, ok, "bearerauth must be a server authenticator")

	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	_, err = server.Authenticate(context.Background(), bearer(alphaKey))
	require.NoError(t, err)
	require.NoError(t, ext.Shutdown(context.Background()))
}
