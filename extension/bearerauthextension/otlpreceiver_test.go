package bearerauthextension

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tracehound/tracehound/internal/apikeys"
	"github.com/tracehound/tracehound/internal/llmschema"
)

// hostWithExtensions is the part of the collector's host that a receiver needs to
// find its authenticator.
type hostWithExtensions map[component.ID]component.Component

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h }

// seen is what the pipeline's first consumer observed of one request.
type seen struct {
	project string
	spans   int
	addr    net.Addr
	marker  []string
}

// projectSink records the client.Info that each ConsumeTraces call carries.
type projectSink struct {
	mu   sync.Mutex
	seen []seen
}

func (s *projectSink) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	info := client.FromContext(ctx)
	got := seen{spans: td.SpanCount(), addr: info.Addr, marker: info.Metadata.Get("x-test-marker")}
	if info.Auth != nil {
		got.project, _ = info.Auth.GetAttribute(llmschema.ProjectAuthAttribute).(string)
	}
	s.mu.Lock()
	s.seen = append(s.seen, got)
	s.mu.Unlock()
	return nil
}

func (s *projectSink) take() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

func freeLocalAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("chat gpt-4o-mini")
	span.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	span.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	return td
}

// startOTLPWithAuth runs the real OTLP receiver on free local ports with
// auth: {authenticator: bearerauth} and the given bearerauth config.
func startOTLPWithAuth(t *testing.T, authCfg *Config) (grpcAddr, httpAddr string, sink *projectSink) {
	t.Helper()
	ctx := context.Background()

	extFactory := NewFactory()
	ext, err := extFactory.Create(ctx, extensiontest.NewNopSettings(extFactory.Type()), authCfg)
	require.NoError(t, err)
	host := hostWithExtensions{component.NewID(extFactory.Type()): ext}
	require.NoError(t, ext.Start(ctx, host))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })

	grpcAddr, httpAddr = freeLocalAddr(t), freeLocalAddr(t)
	recvFactory := otlpreceiver.NewFactory()
	recvCfg := recvFactory.CreateDefaultConfig()
	auth := map[string]any{"authenticator": "bearerauth"}
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"protocols": map[string]any{
			"grpc": map[string]any{"endpoint": grpcAddr, "auth": auth, "include_metadata": true},
			"http": map[string]any{"endpoint": httpAddr, "auth": auth, "include_metadata": true},
		},
	}).Unmarshal(recvCfg))
	require.NoError(t, confmap.Validate(recvCfg))

	sink = &projectSink{}
	traces, err := consumer.NewTraces(sink.ConsumeTraces)
	require.NoError(t, err)
	recv, err := recvFactory.CreateTraces(ctx, receivertest.NewNopSettings(recvFactory.Type()), recvCfg, traces)
	require.NoError(t, err)
	require.NoError(t, recv.Start(ctx, host))
	t.Cleanup(func() { require.NoError(t, recv.Shutdown(context.Background())) })
	return grpcAddr, httpAddr, sink
}

func TestOTLPReceiver_HTTP(t *testing.T) {
	_, httpAddr, sink := startOTLPWithAuth(t, inlineConfig(
		KeyConfig{Key: alphaKey, Project: "alpha"},
		KeyConfig{KeySHA256: apikeys.HashKey(betaKey).String(), Project: "beta"},
	))
	body, err := ptraceotlp.NewExportRequestFromTraces(oneSpan()).MarshalProto()
	require.NoError(t, err)

	tests := []struct {
		name        string
		headers     map[string]string
		wantStatus  int
		wantProject string
	}{
		{name: "bearer key", headers: map[string]string{"Authorization": "Bearer " + alphaKey}, wantStatus: http.StatusOK, wantProject: "alpha"},
		{name: "hashed key", headers: map[string]string{"Authorization": "Bearer " + betaKey}, wantStatus: http.StatusOK, wantProject: "beta"},
		{name: "undecoded Bearer%20", headers: map[string]string{"Authorization": "Bearer%20" + betaKey}, wantStatus: http.StatusOK, wantProject: "beta"},
		{name: "x-tracehound-api-key", headers: map[string]string{"x-tracehound-api-key": alphaKey}, wantStatus: http.StatusOK, wantProject: "alpha"},
		{name: "x-scorecard-api-key", headers: map[string]string{"X-Scorecard-Api-Key": betaKey}, wantStatus: http.StatusOK, wantProject: "beta"},
		{name: "wrong key", headers: map[string]string{"Authorization": "Bearer th_wrong_key_0000000000"}, wantStatus: http.StatusUnauthorized},
		{name: "wrong scheme", headers: map[string]string{"Authorization": "Basic " + alphaKey}, wantStatus: http.StatusUnauthorized},
		{name: "missing key", headers: map[string]string{}, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/v1/traces", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("X-Test-Marker", tt.name)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			respBody, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, tt.wantStatus, resp.StatusCode, string(respBody))

			got := sink.take()
			if tt.wantStatus != http.StatusOK {
				assert.Empty(t, got, "a refused request must not reach the pipeline")
				assert.NotContains(t, string(respBody), "th_", "the response must not echo the key")
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, tt.wantProject, got[0].project)
			assert.Equal(t, 1, got[0].spans)
			assert.NotNil(t, got[0].addr, "client.Info.Addr is kept")
			assert.Equal(t, []string{tt.name}, got[0].marker, "client.Info.Metadata is kept")
		})
	}
}

func TestOTLPReceiver_GRPC(t *testing.T) {
	grpcAddr, _, sink := startOTLPWithAuth(t, inlineConfig(
		KeyConfig{Key: alphaKey, Project: "alpha"},
		KeyConfig{KeySHA256: apikeys.HashKey(betaKey).String(), Project: "beta"},
	))
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, conn.Close()) })
	exporter := ptraceotlp.NewGRPCClient(conn)
	req := ptraceotlp.NewExportRequestFromTraces(oneSpan())

	tests := []struct {
		name        string
		md          []string
		wantCode    codes.Code
		wantProject string
	}{
		{name: "bearer key", md: []string{"authorization", "Bearer " + alphaKey}, wantCode: codes.OK, wantProject: "alpha"},
		{name: "hashed key", md: []string{"authorization", "bearer " + betaKey}, wantCode: codes.OK, wantProject: "beta"},
		{name: "x-tracehound-api-key", md: []string{"x-tracehound-api-key", betaKey}, wantCode: codes.OK, wantProject: "beta"},
		{name: "wrong key", md: []string{"authorization", "Bearer th_wrong_key_0000000000"}, wantCode: codes.Unauthenticated},
		{name: "wrong scheme", md: []string{"authorization", "Basic " + alphaKey}, wantCode: codes.Unauthenticated},
		{name: "missing key", md: nil, wantCode: codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ctx = metadata.AppendToOutgoingContext(ctx, append([]string{"x-test-marker", tt.name}, tt.md...)...)
			_, err := exporter.Export(ctx, req)
			got := sink.take()
			if tt.wantCode != codes.OK {
				require.Equal(t, tt.wantCode, status.Code(err), "error: %v", err)
				assert.NotContains(t, status.Convert(err).Message(), "th_", "the status must not echo the key")
				assert.Empty(t, got, "a refused request must not reach the pipeline")
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tt.wantProject, got[0].project)
			assert.Equal(t, 1, got[0].spans)
			assert.NotNil(t, got[0].addr, "client.Info.Addr is kept")
			assert.Equal(t, []string{tt.name}, got[0].marker, "client.Info.Metadata is kept")
		})
	}
}
