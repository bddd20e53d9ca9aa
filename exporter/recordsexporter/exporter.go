package recordsexporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tracehound/tracehound/internal/judge"
	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/bboltstore"
	"github.com/tracehound/tracehound/internal/store/pgstore"
)

type recordsExporter struct {
	cfg      *Config
	settings component.TelemetrySettings
	logger   *zap.Logger

	store   store.Store
	bolt    *bboltstore.Store
	apiAddr net.Addr

	metrics *judge.Service

	stopRetention chan struct{}
	retentionWG   sync.WaitGroup
	server        *http.Server
	serverWG      sync.WaitGroup

	// invalidSpans counts spans dropped for missing IDs; invalidLoggedAt rate-limits the log.
	invalidSpans    atomic.Int64
	invalidLoggedAt atomic.Int64
}

func newRecordsExporter(cfg *Config, set component.TelemetrySettings) *recordsExporter {
	return &recordsExporter{cfg: cfg, settings: set, logger: set.Logger}
}

func (e *recordsExporter) start(ctx context.Context, host component.Host) error {
	var st store.Store
	var where string
	if e.cfg.Store == StorePostgres {
		pg, err := pgstore.Open(ctx, string(e.cfg.Postgres.DSN), e.logger, pgstore.Options{
			MaxBatchSpans: e.cfg.MaxBatchSpans,
			QueueSize:     e.cfg.WriteQueueSize,
		})
		if err != nil {
			return fmt.Errorf("records: %w", err)
		}
		st, where = pg, "postgres"
	} else {
		b, err := bboltstore.Open(e.cfg.Path, e.logger, bboltstore.Options{
			MaxBatchSpans: e.cfg.MaxBatchSpans,
			QueueSize:     e.cfg.WriteQueueSize,
		})
		if err != nil {
			return fmt.Errorf("records: %w", err)
		}
		st, where, e.bolt = b, b.Path(), b
	}
	observed, err := e.startMetrics(st)
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("records: %w", err)
	}
	e.store = observed

	ln, err := e.cfg.API.ToListener(ctx)
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("records: listen for the API on %s: %w", e.cfg.API.NetAddr.Endpoint, err)
	}
	e.apiAddr = ln.Addr()
	auth, err := apiAuthenticator(ctx, e.cfg, host)
	if err != nil {
		_ = ln.Close()
		_ = st.Close()
		return fmt.Errorf("records: %w", err)
	}
	api := newAPI(e.store, e.cfg.DefaultProject, e.logger)
	api.metrics = e.metrics.Handler(api.project)
	serverCfg := e.cfg.API
	serverCfg.Auth = configoptional.None[confighttp.AuthConfig]()
	e.server, err = serverCfg.ToServer(ctx, host.GetExtensions(), e.settings, requireAuth(api.handler(), auth))
	if err != nil {
		_ = ln.Close()
		_ = st.Close()
		return fmt.Errorf("records: create API server: %w", err)
	}
	e.serverWG.Add(1)
	go func() {
		defer e.serverWG.Done()
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentErr := fmt.Errorf("records: API server on %s: %w", ln.Addr(), err)
			e.logger.Error("API server stopped", zap.Error(componentErr))
		}
	}()
	e.metrics.Start()
	if e.cfg.Retention.enabled() {
		e.stopRetention = make(chan struct{})
		e.retentionWG.Add(1)
		go e.retentionLoop()
	}
	e.logger.Info("Records store and API ready",
		zap.String("store", where),
		zap.String("api", "http://"+ln.Addr().String()+"/api/v1/records"))
	return nil
}

func (e *recordsExporter) shutdown(ctx context.Context) error {
	var errs []error
	if e.server != nil {
		if err := e.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("records: stop API server: %w", err))
		}
		e.serverWG.Wait()
	}
	if e.stopRetention != nil {
		close(e.stopRetention)
		e.retentionWG.Wait()
	}
	if err := e.stopMetrics(ctx); err != nil {
		errs = append(errs, fmt.Errorf("records: %w", err))
	}
	if e.store != nil {
		if err := e.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("records: close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// retentionLoop applies the retention policy at start and then every check_interval.
func (e *recordsExporter) retentionLoop() {
	defer e.retentionWG.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stopRetention
		cancel()
	}()
	t := time.NewTicker(e.cfg.Retention.CheckInterval)
	defer t.Stop()
	for {
		e.enforceRetention(ctx)
		select {
		case <-t.C:
		case <-e.stopRetention:
			return
		}
	}
}

func (e *recordsExporter) enforceRetention(ctx context.Context) {
	if e.bolt == nil {
		if e.cfg.Retention.MaxAge <= 0 {
			return
		}
		n, err := e.store.DeleteBefore(ctx, time.Now().Add(-e.cfg.Retention.MaxAge))
		if err != nil && ctx.Err() == nil {
			e.logger.Error("Retention failed; will retry at the next check", zap.Error(err))
		}
		if n > 0 {
			e.logger.Info("Retention deleted old records", zap.Int("by_age", n))
		}
		return
	}
	res, err := e.bolt.EnforceRetention(ctx, bboltstore.Retention{
		MaxAge:   e.cfg.Retention.MaxAge,
		MaxBytes: e.cfg.Retention.MaxSizeMiB << 20,
	}, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			e.logger.Error("Retention failed; will retry at the next check", zap.Error(err))
		}
		return
	}
	if res.DeletedByAge+res.DeletedBySize > 0 {
		e.logger.Info("Retention deleted old records",
			zap.Int("by_age", res.DeletedByAge), zap.Int("by_size", res.DeletedBySize),
			zap.Bool("compacted", res.Compacted),
			zap.Int64("disk_bytes_before", res.Before.DiskBytes()), zap.Int64("disk_bytes_after", res.After.DiskBytes()))
	}
}

// pushTraces converts the batch and returns only after the store has committed it, so an
// acknowledged OTLP request is on disk.
func (e *recordsExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	batch, err := store.FromTracesPooled(authenticatedProject(ctx), td, func(span ptrace.Span) bool {
		if span.TraceID().IsEmpty() || span.SpanID().IsEmpty() {
			// Invalid per OTLP: such spans cannot be merged or found again. Keep the rest
			// of the batch.
			e.dropInvalid()
			return false
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("records: %w", err)
	}
	spans := batch.Spans
	for i := range spans {
		if spans[i].Project == "" {
			spans[i].Project = e.cfg.DefaultProject
		}
	}
	if err := e.store.WriteSpans(ctx, spans); err != nil {
		// The store may still hold the spans (a write it gave up waiting for): their
		// buffer is left to the garbage collector.
		return retryLater(fmt.Errorf("records: store %d spans: %w", len(spans), err))
	}
	batch.Release()
	return nil
}

// storeRetryDelay is how long clients are asked to wait after the store refused a write
// (disk full, database away, write queue full): OTLP/HTTP clients get it as Retry-After,
// gRPC clients as RetryInfo.
const storeRetryDelay = 5 * time.Second

// retryLater turns a store failure into gRPC Unavailable with RetryInfo, which the OTLP
// receiver answers as 503 + Retry-After (HTTP) or Unavailable + RetryInfo (gRPC), so that
// clients back off and resend instead of dropping the data.
func retryLater(err error) error {
	st, detErr := status.New(codes.Unavailable, err.Error()).
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(storeRetryDelay)})
	if detErr != nil {
		return err
	}
	return st.Err()
}

// dropInvalid counts a span without a trace or span ID and logs the count at most every
// invalidLogInterval, so that a misbehaving client cannot flood the log.
func (e *recordsExporter) dropInvalid() {
	n := e.invalidSpans.Add(1)
	now := time.Now().UnixNano()
	last := e.invalidLoggedAt.Load()
	if now-last < int64(invalidLogInterval) || !e.invalidLoggedAt.CompareAndSwap(last, now) {
		return
	}
	e.logger.Warn("Dropped spans without a trace ID or span ID", zap.Int64("total_dropped", n))
}

const invalidLogInterval = 10 * time.Second

// authenticatedProject is the project of the authenticated caller, or "" when the request
// carried no authentication (or it was dropped by a batch processor or a persistent queue;
// llmextract then has stamped tracehound.project.id onto every span).
func authenticatedProject(ctx context.Context) string {
	info := client.FromContext(ctx)
	if info.Auth == nil {
		return ""
	}
	if p, ok := info.Auth.GetAttribute(llmschema.ProjectAuthAttribute).(string); ok {
		return p
	}
	return ""
}
