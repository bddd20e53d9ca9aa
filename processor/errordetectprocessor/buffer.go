package errordetectprocessor

import (
	"container/list"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// traceBuffer lets the trace-level checks see spans of one trace that arrive in different
// batches. It keeps each incoming batch whole (no copies, no re-splitting) and passes it on
// once every trace it holds has been evaluated. A trace is evaluated when its root span
// arrives, when traceWait has passed since its first span, when maxTraces would be exceeded
// (oldest first) or at shutdown — never dropped.
//
// The batch is acknowledged to the sender when it enters the buffer, not when it leaves:
// an SDK exports its next batch only after the previous one was answered, so holding the
// answer would keep the root span from ever arriving in time. The price, as with the
// groupbytrace processor, is that held data is lost if the collector crashes and that errors
// of the next consumer cannot reach the sender; they are logged.
type traceBuffer struct {
	wait     time.Duration
	max      int
	evaluate func(*traceGroup)
	release  func(ptrace.Traces)
	// evictions is called with the number of traces evaluated early because the buffer
	// was full.
	evictions func(int)

	mu      sync.Mutex
	pending map[pcommon.TraceID]*pendingTrace
	order   *list.List // of *pendingTrace, oldest first
	closed  bool
}

type pendingTrace struct {
	id      pcommon.TraceID
	group   *traceGroup
	waiters []*waitingBatch
	elem    *list.Element
	timer   *time.Timer
}

// waitingBatch is one incoming batch waiting for its traces to be evaluated.
type waitingBatch struct {
	td        ptrace.Traces
	remaining int
}

func newTraceBuffer(wait time.Duration, maxTraces int, evaluate func(*traceGroup), release func(ptrace.Traces), evictions func(int)) *traceBuffer {
	return &traceBuffer{
		wait:      wait,
		max:       maxTraces,
		evaluate:  evaluate,
		release:   release,
		evictions: evictions,
		pending:   map[pcommon.TraceID]*pendingTrace{},
		order:     list.New(),
	}
}

// add takes in a batch: its spans join their traces, traces that are due are evaluated,
// and batches whose traces are all evaluated are released.
func (b *traceBuffer) add(td ptrace.Traces) {
	groups := groupByTrace(td)
	if len(groups) == 0 {
		b.release(td)
		return
	}
	w := &waitingBatch{td: td}
	var due []*pendingTrace

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		for _, g := range groups {
			b.evaluate(g)
		}
		b.release(td)
		return
	}
	for _, g := range groups {
		id := g.spans[0].span.TraceID()
		pt, ok := b.pending[id]
		if !ok {
			pt = &pendingTrace{id: id, group: &traceGroup{}}
			pt.elem = b.order.PushBack(pt)
			b.pending[id] = pt
			pt.timer = time.AfterFunc(b.wait, func() { b.expire(pt) })
		}
		pt.group.spans = append(pt.group.spans, g.spans...)
		pt.waiters = append(pt.waiters, w)
		w.remaining++
		if hasRoot(g) {
			due = append(due, b.takeLocked(pt))
		}
	}
	evicted := 0
	for len(b.pending) > b.max {
		due = append(due, b.takeLocked(b.order.Front().Value.(*pendingTrace)))
		evicted++
	}
	b.mu.Unlock()

	if evicted > 0 {
		b.evictions(evicted)
	}
	b.run(due)
}

func hasRoot(g *traceGroup) bool {
	for _, v := range g.spans {
		if v.root {
			return true
		}
	}
	return false
}

// takeLocked removes a pending trace so that exactly one caller evaluates it.
func (b *traceBuffer) takeLocked(pt *pendingTrace) *pendingTrace {
	delete(b.pending, pt.id)
	b.order.Remove(pt.elem)
	pt.timer.Stop()
	return pt
}

func (b *traceBuffer) expire(pt *pendingTrace) {
	b.mu.Lock()
	if b.pending[pt.id] != pt {
		b.mu.Unlock()
		return
	}
	b.takeLocked(pt)
	b.mu.Unlock()
	b.run([]*pendingTrace{pt})
}

// run evaluates taken traces and releases the batches that no longer wait for anything.
// A batch's spans are touched only by the evaluation of their own trace, and a trace is
// evaluated by exactly one caller, so evaluations of different traces may run at once.
func (b *traceBuffer) run(traces []*pendingTrace) {
	if len(traces) == 0 {
		return
	}
	for _, pt := range traces {
		b.evaluate(pt.group)
	}
	var ready []ptrace.Traces
	b.mu.Lock()
	for _, pt := range traces {
		for _, w := range pt.waiters {
			w.remaining--
			if w.remaining == 0 {
				ready = append(ready, w.td)
			}
		}
		pt.waiters = nil
	}
	b.mu.Unlock()
	for _, td := range ready {
		b.release(td)
	}
}

// shutdown evaluates everything still pending and releases every waiting batch.
func (b *traceBuffer) shutdown() {
	b.mu.Lock()
	b.closed = true
	var all []*pendingTrace
	for b.order.Len() > 0 {
		all = append(all, b.takeLocked(b.order.Front().Value.(*pendingTrace)))
	}
	b.mu.Unlock()
	b.run(all)
}
