package llmproxyreceiver

import (
	"context"
	"io"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/tracehound/tracehound/extension/bearerauthextension"
	"github.com/tracehound/tracehound/internal/llmschema"
)

// TestBearerAuthExtension_EndToEnd runs the proxy with the real bearerauth extension:
// the OpenAI SDK's project key in x-tracehound-api-key and an Anthropic-style call with
// the project key as the bearer token both map to the configured project.
func TestBearerAuthExtension_EndToEnd(t *testing.T) {
	f := bearerauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearerauthextension.Config)
	acfg.KeysFile = ""
	acfg.GenerateKeyIfEmpty = false
	acfg.Keys = []bearerauthextension.KeyConfig{{Key: testProjectKey, Project: "proj-real"}}
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	id := component.NewID(f.Type())
	host := testHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: ext}}
	sink := &ctxSink{infos: make(chan client.Info, 10)}
	recv, up := startProxyWith(t, host, sink, func(c *Config) {
		c.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: id}})
	})
	env := &proxyEnv{t: t, recv: recv, sink: sink, upstream: up, base: "http://" + recv.listener.Addr().String()}

	c := env.openAI()
	if _, err := c.Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini")); err != nil {
		t.Fatalf("chat through bearerauth: %v", err)
	}
	checkAttrs(t, env.onlySpan(), attrWant{llmschema.ProjectID: "proj-real"})
	if info := <-sink.infos; info.Auth == nil || info.Auth.GetAttribute(llmschema.ProjectAuthAttribute) != "proj-real" {
		t.Errorf("pipeline context lacks the project: %+v", info)
	}
	sink.Reset()

	resp := doRequest(t, http.MethodPost, env.base+"/v1/messages",
		`{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`,
		map[string]string{"X-Api-Key": testAnthropic, "Authorization": "Bearer " + testProjectKey, "Content-Type": "application/json"})
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	checkAttrs(t, env.onlySpan(), attrWant{llmschema.ProjectID: "proj-real"})
	if got := up.lastRequest().header.Get("Authorization"); got != "" {
		t.Errorf("project bearer key forwarded: %q", got)
	}

	resp = doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", chatBody,
		map[string]string{"Authorization": "Bearer " + testOpenAIKey, "X-Tracehound-Api-Key": "not-a-key"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: status %d", resp.StatusCode)
	}
	env.assertNoSecrets()
}
