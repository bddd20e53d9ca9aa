// Package llmextractprocessor reads the LLM span conventions in the wild (OpenTelemetry
// GenAI, OpenLLMetry/Traceloop, OpenInference, Vercel AI SDK, Claude Code, Langfuse) and
// writes one canonical view onto every span; see README.md.
package llmextractprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// typeStr is the component type used in collector configuration.
const typeStr = "llmextract"

var componentType = component.MustNewType(typeStr)

// NewFactory returns the factory of the llmextract processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return createDefaultConfig() },
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
	)
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
