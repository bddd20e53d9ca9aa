package llmextractprocessor

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/pricing"
)

// maxLoggedUnknownModels bounds the set of model IDs whose missing price was logged, so a
// stream of random model names cannot grow memory or flood the log.
const maxLoggedUnknownModels = 256

// maxLoggedModelBytes keeps a hostile model "name" from producing a huge log line.
const maxLoggedModelBytes = 256

type llmExtractProcessor struct {
	cfg    *Config
	logger *zap.Logger
	ex     *extractor

	unknownPrices metric.Int64Counter
	spans         metric.Int64Counter

	mu          sync.Mutex
	loggedModel map[string]struct{}
}

func newProcessor(set processor.Settings, cfg *Config) (*llmExtractProcessor, error) {
	table, err := pricing.Builtin()
	if err != nil {
		return nil, fmt.Errorf("llmextract: load built-in price table: %w", err)
	}
	if cfg.PricesFile != "" {
		overrides, err := pricing.LoadOverrideFile(cfg.PricesFile)
		if err != nil {
			return nil, fmt.Errorf("llmextract: prices_file: %w", err)
		}
		if table, err = table.WithOverrides(overrides); err != nil {
			return nil, fmt.Errorf("llmextract: prices_file %s: %w", cfg.PricesFile, err)
		}
	}
	meter := set.MeterProvider.Meter("github.com/tracehound/tracehound/processor/llmextractprocessor")
	unknown, err := meter.Int64Counter("tracehound_llmextract_price_unknown",
		metric.WithDescription("LLM calls whose model has no price in the price table"),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, fmt.Errorf("llmextract: create metric: %w", err)
	}
	spans, err := meter.Int64Counter("tracehound_llmextract_spans",
		metric.WithDescription("Spans normalized by llmextract, by detected span kind"),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, fmt.Errorf("llmextract: create metric: %w", err)
	}
	p := &llmExtractProcessor{
		cfg:           cfg,
		logger:        set.Logger,
		unknownPrices: unknown,
		spans:         spans,
		loggedModel:   make(map[string]struct{}),
	}
	p.ex = &extractor{
		maxBytes:     cfg.MaxAttributeBytes,
		keepOriginal: cfg.KeepOriginalAttributes,
		runIDKeys:    append(append([]string{}, metadataRunIDKeys...), cfg.RunIDKeys...),
		prices:       table,
	}
	return p, nil
}

// metadataRunIDKeys are where instrumentations that cannot set arbitrary span attributes put
// a run ID: OpenLLMetry association properties and Vercel AI SDK telemetry metadata. They
// rank after tracehound.run.id and scorecard.tracing_group_id and before run_id_keys.
var metadataRunIDKeys = []string{
	llmschema.TraceloopAssociationProps + llmschema.ScorecardTracingGroupID,
	llmschema.AITelemetryMetadata + llmschema.ScorecardTracingGroupID,
	llmschema.TraceloopAssociationProps + llmschema.RunID,
	llmschema.AITelemetryMetadata + llmschema.RunID,
}

// projectFrom returns the authenticated project of the request, or the configured default.
// A project claimed by the client in its attributes is never trusted.
func (p *llmExtractProcessor) projectFrom(ctx context.Context) string {
	if auth := client.FromContext(ctx).Auth; auth != nil {
		if s, ok := auth.GetAttribute(llmschema.ProjectAuthAttribute).(string); ok && s != "" {
			return s
		}
	}
	return p.cfg.DefaultProject
}

func (p *llmExtractProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	project := p.projectFrom(ctx)
	var unknown []string
	ex := *p.ex
	ex.unknownPrice = func(model string) { unknown = append(unknown, model) }
	kinds := make(map[string]int64, 4)

	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		rs.Resource().Attributes().Range(func(_ string, v pcommon.Value) bool {
			ex.cleanValue(v, 0)
			return true
		})
		stampResourceProject(rs.Resource().Attributes(), project)
		ri := ex.resourceInfo(rs.Resource())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ex.cleanScope(sss.At(j).Scope())
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				kinds[ex.extractSpan(spans.At(k), &ri, project)]++
			}
		}
	}
	for kind, n := range kinds {
		p.spans.Add(ctx, n, metric.WithAttributes(attribute.String("kind", kind)))
	}
	if len(unknown) > 0 {
		p.unknownPrices.Add(ctx, int64(len(unknown)))
		p.logUnknown(unknown)
	}
	return td, nil
}

// stampResourceProject overwrites the project keys a client may have put on the resource.
func stampResourceProject(attrs pcommon.Map, project string) {
	for _, k := range []string{llmschema.ProjectID, llmschema.ScorecardProjectID, llmschema.TracehoundProjectIDRes} {
		if _, ok := attrs.Get(k); ok {
			attrs.PutStr(k, project)
		}
	}
}

// logUnknown logs each unpriced model once per process lifetime (bounded), not per span.
func (p *llmExtractProcessor) logUnknown(models []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range models {
		m = clean(m, maxLoggedModelBytes)
		if _, seen := p.loggedModel[m]; seen || len(p.loggedModel) >= maxLoggedUnknownModels {
			continue
		}
		p.loggedModel[m] = struct{}{}
		p.logger.Info("model has no price; its calls are marked tracehound.cost.unknown (add it with prices_file)",
			zap.String("model", m))
	}
}
