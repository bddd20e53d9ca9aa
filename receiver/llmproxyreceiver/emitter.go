package llmproxyreceiver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
)

const (
	// dataFormat labels the receiver's obsreport metrics.
	dataFormat = "llmproxy"
	// warnInterval bounds how often a failing pipeline or a full queue is logged.
	warnInterval = 10 * time.Second
)

// emitter hands finished calls to the traces pipeline from a fixed set of workers, so
// the client's response never waits for the pipeline. The queue is bounded by count
// and by bytes; a call that does not fit is dropped and counted.
type emitter struct {
	queue    chan *call
	maxBytes int64
	next     consumer.Traces
	obs      *receiverhelper.ObsReport
	logger   *zap.Logger

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup

	queuedBytes atomic.Int64
	dropped     atomic.Int64
	failed      atomic.Int64
	emitted     atomic.Int64

	dropWarn *rateLimitedWarn
	failWarn *rateLimitedWarn
}

func newEmitter(cfg QueueConfig, next consumer.Traces, obs *receiverhelper.ObsReport, logger *zap.Logger) *emitter {
	e := &emitter{
		queue:    make(chan *call, cfg.Size),
		maxBytes: cfg.MaxBytes,
		next:     next,
		obs:      obs,
		logger:   logger,
		dropWarn: &rateLimitedWarn{logger: logger, msg: "llmproxy span queue is full; dropping spans (the pipeline is slower than the traffic; raise queue.size or queue.workers)"},
		failWarn: &rateLimitedWarn{logger: logger, msg: "llmproxy could not hand spans to the pipeline"},
	}
	for range cfg.Workers {
		e.wg.Add(1)
		go e.work()
	}
	return e
}

// enqueue never blocks.
func (e *emitter) enqueue(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.drop(c, "shutting down")
		return
	}
	size := c.size()
	if e.queuedBytes.Add(size) > e.maxBytes {
		e.queuedBytes.Add(-size)
		e.drop(c, "queue.max_bytes reached")
		return
	}
	select {
	case e.queue <- c:
	default:
		e.queuedBytes.Add(-size)
		e.drop(c, "queue.size reached")
	}
}

func (e *emitter) drop(c *call, reason string) {
	n := e.dropped.Add(1)
	ctx := e.obs.StartTracesOp(client.NewContext(context.Background(), c.info))
	e.obs.EndTracesOp(ctx, dataFormat, 1, errQueueFull)
	e.dropWarn.log(zap.String("reason", reason), zap.Int64("dropped_total", n))
}

func (e *emitter) work() {
	defer e.wg.Done()
	for c := range e.queue {
		e.queuedBytes.Add(-c.size())
		e.emit(c)
	}
}

func (e *emitter) emit(c *call) {
	td := c.traces()
	// The request context is gone by now; the pipeline gets the caller's identity
	// (client.Info with its auth data) on a fresh one.
	ctx := e.obs.StartTracesOp(client.NewContext(context.Background(), c.info))
	err := e.next.ConsumeTraces(ctx, td)
	e.obs.EndTracesOp(ctx, dataFormat, 1, err)
	if err != nil {
		n := e.failed.Add(1)
		e.failWarn.log(zap.Error(err), zap.Int64("failed_total", n))
		return
	}
	e.emitted.Add(1)
}

// shutdown stops taking calls and drains the queue until ctx ends.
func (e *emitter) shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("llmproxy: %d queued spans not emitted before shutdown deadline: %w", len(e.queue), ctx.Err())
	}
}

// rateLimitedWarn logs at most once per warnInterval and says how many it held back.
type rateLimitedWarn struct {
	logger     *zap.Logger
	msg        string
	mu         sync.Mutex
	last       time.Time
	suppressed int64
}

func (w *rateLimitedWarn) log(fields ...zap.Field) {
	w.mu.Lock()
	now := time.Now()
	if now.Sub(w.last) < warnInterval {
		w.suppressed++
		w.mu.Unlock()
		return
	}
	suppressed := w.suppressed
	w.last, w.suppressed = now, 0
	w.mu.Unlock()
	w.logger.Warn(w.msg, append(fields, zap.Int64("suppressed", suppressed))...)
}
