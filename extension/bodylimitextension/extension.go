package bodylimitextension

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

type bodyLimit struct {
	component.StartFunc
	component.ShutdownFunc
	max int64
}

var _ extensionmiddleware.HTTPServer = (*bodyLimit)(nil)

// GetHTTPHandler implements extensionmiddleware.HTTPServer.
func (b *bodyLimit) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > b.max {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = fmt.Fprintf(w, "request body of %d bytes is over the limit of %d bytes: send smaller batches\n", r.ContentLength, b.max)
				return
			}
			next.ServeHTTP(w, r)
		}), nil
	}, nil
}
