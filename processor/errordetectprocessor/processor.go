package errordetectprocessor

import (
	"context"
	"encoding/json"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
)

type errorDetectProcessor struct {
	logger   *zap.Logger
	cfg      *Config
	detector *detector
	rules    []rule
	// buffer is set when trace_wait is on.
	buffer    *traceBuffer
	telemetry *processorTelemetry
}

func newProcessor(set processor.Settings, cfg *Config, next consumer.Traces) (*errorDetectProcessor, error) {
	rules, err := compileRules(set.TelemetrySettings, cfg.Rules)
	if err != nil {
		return nil, err
	}
	tel, err := newProcessorTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &errorDetectProcessor{
		logger:    set.Logger,
		cfg:       cfg,
		detector:  newDetector(cfg),
		rules:     rules,
		telemetry: tel,
	}
	if cfg.TraceWait > 0 {
		p.buffer = newTraceBuffer(cfg.TraceWait, cfg.MaxTraces, func(g *traceGroup) {
			if failed := p.evaluate(context.Background(), g); failed > 0 {
				p.logger.Debug("errordetect: some rule conditions failed to evaluate and did not match",
					zap.Int("failures", failed), zap.Int("spans", len(g.spans)))
			}
		}, func(td ptrace.Traces) {
			// The sender was answered when the batch came in (see traceBuffer), so an
			// error here can only be reported.
			if err := next.ConsumeTraces(context.Background(), td); err != nil {
				p.logger.Error("errordetect: next consumer refused a released batch; its spans are lost",
					zap.Error(err), zap.Int("spans", td.SpanCount()))
			}
		}, func(n int) {
			p.telemetry.tracesEvaluatedEarly.Add(context.Background(), int64(n))
		})
	}
	return p, nil
}

// traceGroup is the part of one trace that arrived in a batch (or, with trace_wait, in
// the batches collected for it).
type traceGroup struct {
	spans []*spanView
}

func (p *errorDetectProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if p.buffer != nil {
		p.buffer.add(td)
		return td, processorhelper.ErrSkipProcessingData
	}
	ruleFailures := 0
	for _, g := range groupByTrace(td) {
		ruleFailures += p.evaluate(ctx, g)
	}
	if ruleFailures > 0 {
		p.logger.Debug("errordetect: some rule conditions failed to evaluate and did not match",
			zap.Int("failures", ruleFailures), zap.Int("spans", td.SpanCount()))
	}
	return td, nil
}

// evaluate runs every check and rule on one trace group and writes the flags; it returns
// how many rule evaluations failed.
func (p *errorDetectProcessor) evaluate(ctx context.Context, g *traceGroup) int {
	p.detector.detectTrace(g)
	failures := 0
	for _, v := range g.spans {
		if len(p.rules) > 0 {
			flags, failed := evalRules(ctx, p.rules, v.rs, v.ss, v.span)
			failures += failed
			for _, f := range flags {
				v.add(f)
			}
		}
		if len(v.flags) > 0 {
			for _, f := range writeFlags(v.attrs, v.flags, p.cfg.MaxEvidenceChars) {
				p.telemetry.flags.Add(ctx, 1, metric.WithAttributes(
					attribute.String("code", f.Code), attribute.String("category", f.Category)))
			}
		}
	}
	if failures > 0 {
		p.telemetry.ruleFailures.Add(ctx, int64(failures))
	}
	return failures
}

func (p *errorDetectProcessor) shutdown(context.Context) error {
	if p.buffer != nil {
		p.buffer.shutdown()
	}
	return nil
}

// groupByTrace collects the spans of a batch per trace ID, keeping arrival order, so that
// trace-level checks see every span of the trace that this batch holds.
func groupByTrace(td ptrace.Traces) []*traceGroup {
	index := map[pcommon.TraceID]*traceGroup{}
	var groups []*traceGroup
	// One allocation for the views of the whole batch; it holds them all, so growing it
	// never moves a view that a group points to.
	views := make([]spanView, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				g, ok := index[span.TraceID()]
				if !ok {
					g = &traceGroup{}
					index[span.TraceID()] = g
					groups = append(groups, g)
				}
				views = views[:len(views)+1]
				v := &views[len(views)-1]
				v.load(rs, ss, span)
				g.spans = append(g.spans, v)
			}
		}
	}
	return groups
}

// writeFlags merges flags into the span's tracehound.flags: flags already there are kept
// (a second errordetect, a judge or the SDK may have written them) and a code that is
// already present is not added again.
// It returns the flags it added.
func writeFlags(attrs pcommon.Map, flags []llmschema.Flag, maxEvidence int) []llmschema.Flag {
	var merged []llmschema.Flag
	if existing, ok := attrs.Get(llmschema.Flags); ok {
		if err := json.Unmarshal([]byte(existing.AsString()), &merged); err != nil {
			// Not ours to interpret: keep the original value visible rather than lose it.
			merged = []llmschema.Flag{{
				Code: "invalid_flags", Category: llmschema.CategoryTechnical, Severity: llmschema.SeverityInfo,
				Message: "tracehound.flags held a value that is not a JSON list of flags", Evidence: truncate(existing.AsString(), maxEvidence),
				Source: llmschema.FlagSourceRule,
			}}
		}
	}
	have := make(map[string]bool, len(merged))
	for _, f := range merged {
		have[f.Code] = true
	}
	var added []llmschema.Flag
	for _, f := range flags {
		if have[f.Code] {
			continue
		}
		have[f.Code] = true
		f.Evidence = truncate(f.Evidence, maxEvidence)
		if f.Source == "" {
			f.Source = llmschema.FlagSourceRule
		}
		merged = append(merged, f)
		added = append(added, f)
	}
	if len(added) == 0 {
		return nil
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil
	}
	attrs.PutStr(llmschema.Flags, string(b))
	return added
}
