package pathaliasextension

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

type pathAlias struct {
	component.StartFunc
	component.ShutdownFunc
	prefixes []string
}

var (
	_ extension.Extension            = (*pathAlias)(nil)
	_ extensionmiddleware.HTTPServer = (*pathAlias)(nil)
)

func newPathAlias(cfg *Config) *pathAlias {
	return &pathAlias{prefixes: append([]string(nil), cfg.StripPrefixes...)}
}

// GetHTTPHandler implements extensionmiddleware.HTTPServer.
func (p *pathAlias) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if stripped, ok := p.strip(r.URL.Path); ok {
				r2 := r.Clone(r.Context())
				r2.URL.Path = stripped
				r2.URL.RawPath = ""
				r2.RequestURI = r2.URL.RequestURI()
				r = r2
			}
			next.ServeHTTP(w, r)
		}), nil
	}, nil
}

// strip removes the first matching prefix; "/otel" matches "/otel" and "/otel/...", never "/otelx".
func (p *pathAlias) strip(path string) (string, bool) {
	for _, prefix := range p.prefixes {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return "/", true
		}
		if rest[0] == '/' {
			return rest, true
		}
	}
	return path, false
}
