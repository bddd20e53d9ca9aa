package llmproxyreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
)

// upstream is a configured provider endpoint, ready to forward to.
type upstream struct {
	name     string
	api      string
	provider string
	base     *url.URL
	host     string
	port     int
	client   *http.Client
}

type proxyReceiver struct {
	cfg      *Config
	settings receiver.Settings
	logger   *zap.Logger
	next     consumer.Traces
	obs      *receiverhelper.ObsReport

	auth      extensionauth.Server
	upstreams map[string]*upstream
	emitter   *emitter

	server   *http.Server
	listener net.Listener
	serveWG  sync.WaitGroup
}

func newProxyReceiver(cfg *Config, set receiver.Settings, next consumer.Traces) (*proxyReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, fmt.Errorf("llmproxy: create obsreport: %w", err)
	}
	return &proxyReceiver{
		cfg:      cfg,
		settings: set,
		logger:   set.Logger,
		next:     next,
		obs:      obs,
	}, nil
}

// Start builds the upstream clients, resolves the authenticator and starts listening.
func (p *proxyReceiver) Start(ctx context.Context, host component.Host) error {
	exts := host.GetExtensions()
	if p.cfg.Auth.HasValue() {
		id := p.cfg.Auth.Get().Config.AuthenticatorID
		ext, ok := exts[id]
		if !ok {
			return fmt.Errorf("llmproxy: auth.authenticator %q: no such extension (add it under extensions and service.extensions)", id)
		}
		server, ok := ext.(extensionauth.Server)
		if !ok {
			return fmt.Errorf("llmproxy: auth.authenticator %q: extension is not a server authenticator", id)
		}
		p.auth = server
	}

	p.upstreams = make(map[string]*upstream, len(p.cfg.Upstreams))
	for name, ucfg := range p.cfg.Upstreams {
		u, err := p.newUpstream(ctx, name, ucfg, exts)
		if err != nil {
			return err
		}
		p.upstreams[name] = u
	}

	// The proxy authenticates itself (the key may sit in one of several headers and
	// failures must use the provider's error format) and enforces its own body limit.
	serverCfg := p.cfg.ServerConfig
	serverCfg.Auth = configoptional.None[confighttp.AuthConfig]()
	serverCfg.MaxRequestBodySize = p.cfg.MaxRequestBodyBytes

	p.emitter = newEmitter(p.cfg.Queue, p.next, p.obs, p.logger)

	ln, err := serverCfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("llmproxy: listen on %s: %w", serverCfg.NetAddr.Endpoint, err)
	}
	srv, err := serverCfg.ToServer(ctx, exts, p.settings.TelemetrySettings, p)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("llmproxy: create HTTP server: %w", err)
	}
	p.listener, p.server = ln, srv
	p.logger.Info("llmproxy listening", zap.String("endpoint", ln.Addr().String()), zap.Bool("auth", p.auth != nil))
	if p.auth == nil {
		p.logger.Warn("llmproxy has no authenticator: every call is stored under the default project; use this only on a local machine")
	}
	p.serveWG.Add(1)
	go func() {
		defer p.serveWG.Done()
		if serr := srv.Serve(ln); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(serr))
		}
	}()
	return nil
}

func (p *proxyReceiver) newUpstream(ctx context.Context, name string, ucfg UpstreamConfig, exts map[component.ID]component.Component) (*upstream, error) {
	raw := ucfg.resolvedURL(name)
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("llmproxy: upstreams.%s.url %q: %w", name, raw, err)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	clientCfg := ucfg.ClientConfig
	if !clientCfg.Keepalive.HasValue() {
		// Connections to the provider are reused across calls; a new TLS handshake per
		// call would add tens of milliseconds.
		clientCfg.Keepalive = configoptional.Some(confighttp.KeepaliveClientConfig{
			IdleConnTimeout:     90 * time.Second,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 256,
		})
	}
	client, err := clientCfg.ToClient(ctx, exts, p.settings.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("llmproxy: upstreams.%s: create HTTP client: %w", name, err)
	}
	// Redirects are answered to the client, not followed on its behalf.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	host, port := base.Hostname(), 0
	if ps := base.Port(); ps != "" {
		_, _ = fmt.Sscanf(ps, "%d", &port)
	} else if base.Scheme == "https" {
		port = 443
	} else {
		port = 80
	}
	return &upstream{
		name:     name,
		api:      ucfg.resolvedAPI(name),
		provider: ucfg.resolvedProvider(name),
		base:     base,
		host:     host,
		port:     port,
		client:   client,
	}, nil
}

// Shutdown stops accepting calls, waits for running ones within ctx, then hands the
// queued spans to the pipeline.
func (p *proxyReceiver) Shutdown(ctx context.Context) error {
	var errs []error
	if p.server != nil {
		if err := p.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("llmproxy: stop HTTP server: %w", err))
			_ = p.server.Close()
		}
		p.serveWG.Wait()
	}
	if p.emitter != nil {
		if err := p.emitter.shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, u := range p.upstreams {
		u.client.CloseIdleConnections()
	}
	return errors.Join(errs...)
}
