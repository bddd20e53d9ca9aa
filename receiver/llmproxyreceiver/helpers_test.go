package llmproxyreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

const (
	testProjectKey  = "th_test_project_key_0123456789"
	testProjectKey2 = "th_other_project_key_987654321"
	testOpenAIKey   = "sk-test-provider-key-abcdefghijklmnop1234"
	testAnthropic   = "sk-ant-test-provider-key-zyxwvutsrq9876"
)

var fakeAuthID = component.MustNewID("fakeauth")

// fakeAuth is a small extensionauth.Server: it maps keys to projects the way the
// bearerauth extension does, and records which headers it was shown.
type fakeAuth struct {
	keys map[string]string
	seen []map[string][]string
}

func (*fakeAuth) Start(context.Context, component.Host) error { return nil }
func (*fakeAuth) Shutdown(context.Context) error              { return nil }

func (a *fakeAuth) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	a.seen = append(a.seen, headers)
	var key string
	for k, v := range headers {
		switch strings.ToLower(k) {
		case "x-tracehound-api-key", "x-scorecard-api-key":
			key = v[0]
		case "authorization":
			key = strings.TrimPrefix(v[0], "Bearer ")
		}
	}
	project, ok := a.keys[key]
	if !ok {
		return ctx, errors.New("invalid API key")
	}
	info := client.FromContext(ctx)
	info.Auth = fakeAuthData{project: project}
	return client.NewContext(ctx, info), nil
}

type fakeAuthData struct{ project string }

func (d fakeAuthData) GetAttribute(name string) any {
	if name == llmschema.ProjectAuthAttribute {
		return d.project
	}
	return nil
}
func (fakeAuthData) GetAttributeNames() []string { return []string{llmschema.ProjectAuthAttribute} }

var _ extensionauth.Server = (*fakeAuth)(nil)

type testHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h testHost) GetExtensions() map[component.ID]component.Component { return h.exts }

// ctxSink records the client.Info each ConsumeTraces call carried.
type ctxSink struct {
	consumertest.TracesSink
	infos chan client.Info
}

func (s *ctxSink) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	select {
	case s.infos <- client.FromContext(ctx):
	default:
	}
	return s.TracesSink.ConsumeTraces(ctx, td)
}

type proxyEnv struct {
	t        *testing.T
	recv     *proxyReceiver
	sink     *ctxSink
	upstream *fakeUpstream
	auth     *fakeAuth
	base     string
}

type envOption func(*Config)

func withAuth() envOption {
	return func(c *Config) {
		c.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: fakeAuthID}})
	}
}

func startProxyWith(t *testing.T, host component.Host, next consumer.Traces, opts ...envOption) (*proxyReceiver, *fakeUpstream) {
	t.Helper()
	up := newFakeUpstream(t)
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Upstreams = map[string]UpstreamConfig{
		"openai":    {URL: up.URL()},
		"anthropic": {URL: up.URL(), API: apiAnthropic},
		"ollama":    {URL: up.URL(), API: apiOpenAI},
	}
	for _, o := range opts {
		o(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	r, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(componentType), cfg, next)
	if err != nil {
		t.Fatalf("create receiver: %v", err)
	}
	if err := r.Start(context.Background(), host); err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return r.(*proxyReceiver), up
}

func startProxy(t *testing.T, opts ...envOption) *proxyEnv {
	t.Helper()
	auth := &fakeAuth{keys: map[string]string{testProjectKey: "proj-a", testProjectKey2: "proj-b"}}
	host := testHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fakeAuthID: auth}}
	sink := &ctxSink{infos: make(chan client.Info, 100)}
	recv, up := startProxyWith(t, host, sink, opts...)
	return &proxyEnv{t: t, recv: recv, sink: sink, upstream: up, auth: auth, base: "http://" + recv.listener.Addr().String()}
}

// waitSpans polls until the sink holds n spans or the deadline passes.
func (e *proxyEnv) waitSpans(n int) []ptrace.Span {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := allSpans(e.sink.AllTraces())
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("want %d spans, got %d", n, len(spans))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *proxyEnv) onlySpan() ptrace.Span {
	e.t.Helper()
	spans := e.waitSpans(1)
	if len(spans) != 1 {
		e.t.Fatalf("want 1 span, got %d", len(spans))
	}
	return spans[0]
}

func allSpans(tds []ptrace.Traces) []ptrace.Span {
	var out []ptrace.Span
	for _, td := range tds {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			ss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < ss.Len(); j++ {
				for k := 0; k < ss.At(j).Spans().Len(); k++ {
					out = append(out, ss.At(j).Spans().At(k))
				}
			}
		}
	}
	return out
}

// assertNoSecrets fails when any span attribute, status or resource attribute holds a
// provider or project key.
func (e *proxyEnv) assertNoSecrets() {
	e.t.Helper()
	secrets := []string{testOpenAIKey, testAnthropic, testProjectKey, testProjectKey2}
	for _, td := range e.sink.AllTraces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			texts := []string{fmt.Sprint(rs.Resource().Attributes().AsRaw())}
			for _, s := range allSpans([]ptrace.Traces{td}) {
				texts = append(texts, fmt.Sprint(s.Attributes().AsRaw()), s.Status().Message(), s.Name())
			}
			for _, text := range texts {
				for _, secret := range secrets {
					if strings.Contains(text, secret) {
						e.t.Fatalf("span data holds a key: %q", text)
					}
				}
			}
		}
	}
}

type attrWant map[string]any

// checkAttrs compares the listed attributes; a nil want means "must be absent".
func checkAttrs(t *testing.T, span ptrace.Span, want attrWant) {
	t.Helper()
	got := span.Attributes().AsRaw()
	for k, w := range want {
		g, ok := got[k]
		if w == nil {
			if ok {
				t.Errorf("attribute %s: want absent, got %v", k, g)
			}
			continue
		}
		if !ok {
			t.Errorf("attribute %s: missing (want %v)", k, w)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("attribute %s:\n got %v\nwant %v", k, g, w)
		}
	}
}

func doRequest(t *testing.T, method, url string, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}
