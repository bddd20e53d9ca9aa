package recordsexporter

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionauth"
)

// apiAuthenticator resolves the authenticator named in api.auth. The exporter applies it to
// /api/ only (not through confighttp, which would guard every path): the UI's static files and
// /healthz carry no data and must load without a key, so the UI can ask for one.
func apiAuthenticator(ctx context.Context, cfg *Config, host component.Host) (extensionauth.Server, error) {
	if !cfg.API.Auth.HasValue() {
		return nil, nil
	}
	auth, err := cfg.API.Auth.Get().Config.GetServerAuthenticator(ctx, host.GetExtensions())
	if err != nil {
		return nil, fmt.Errorf("api.auth: %w", err)
	}
	return auth, nil
}

// requireAuth authenticates every /api/ request with the configured authenticator and puts
// the caller's identity into the request context, where the handlers read the project.
func requireAuth(next http.Handler, auth extensionauth.Server) http.Handler {
	if auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		ctx := client.NewContext(r.Context(), client.Info{Addr: remoteAddr(r), Metadata: client.NewMetadata(r.Header)})
		ctx, err := auth.Authenticate(ctx, r.Header)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tracehound"`)
			writeError(w, http.StatusUnauthorized, "unauthenticated",
				"missing or invalid API key: send Authorization: Bearer <key> (create one with `tracehound keys create --project <name>`)")
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

func remoteAddr(r *http.Request) addr { return addr(r.RemoteAddr) }
