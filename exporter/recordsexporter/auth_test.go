package recordsexporter

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensionauth"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// keyAuth accepts "Bearer key-<project>" and names that project.
type keyAuth struct {
	component.StartFunc
	component.ShutdownFunc
}

var _ extensionauth.Server = keyAuth{}

func (keyAuth) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	for _, v := range headers["Authorization"] {
		if len(v) > len("Bearer key-") && v[:len("Bearer key-")] == "Bearer key-" {
			info := client.FromContext(ctx)
			info.Auth = authData{llmschema.ProjectAuthAttribute: v[len("Bearer key-"):]}
			return client.NewContext(ctx, info), nil
		}
	}
	return ctx, errors.New("no valid key")
}

type authHost struct {
	ext map[component.ID]component.Component
}

func (h authHost) GetExtensions() map[component.ID]component.Component { return h.ext }

func TestAPI_AuthGuardsAPIButNotUIOrHealth(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Path = t.TempDir()
	cfg.API.NetAddr.Endpoint = "127.0.0.1:0"
	authID := component.MustNewID("keyauth")
	cfg.API.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	set := exportertest.NewNopSettings(f.Type())
	inner := newRecordsExporter(cfg, set.TelemetrySettings)
	exp, err := wrapTraces(context.Background(), set, cfg, inner)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), authHost{map[component.ID]component.Component{authID: keyAuth{}}}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = exp.Shutdown(context.Background()) }()
	ctx := client.NewContext(context.Background(), client.Info{Auth: authData{llmschema.ProjectAuthAttribute: "alpha"}})
	if err := exp.ConsumeTraces(ctx, agentTraces(1)); err != nil {
		t.Fatal(err)
	}
	base := "http://" + inner.apiAddr.String()
	id := "10000000000000000000000000000000"
	tests := []struct {
		path, key string
		want      int
	}{
		{"/api/v1/records", "", http.StatusUnauthorized},
		{"/api/v1/records", "Bearer wrong", http.StatusUnauthorized},
		{"/api/v1/records/" + id, "", http.StatusUnauthorized},
		{"/api/v1/records/" + id, "Bearer key-alpha", http.StatusOK},
		{"/api/v1/records/" + id, "Bearer key-beta", http.StatusNotFound},
		{"/api/v1/traces/" + id, "Bearer key-beta", http.StatusNotFound},
		{"/", "", http.StatusOK},
		{"/healthz", "", http.StatusOK},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, base+tt.path, nil)
		if tt.key != "" {
			req.Header.Set("Authorization", tt.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s with %q = %d, want %d", tt.path, tt.key, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s: 401 without WWW-Authenticate", tt.path)
		}
	}
}
