// The Anthropic TypeScript SDK's own OpenTelemetry spans (anthropic.messages.create with
// gen_ai.* attributes), with no instrumentation library: only an OpenTelemetry JS tracer
// provider registered globally, exporting OTLP/HTTP protobuf.
'use strict';
const { context } = require('@opentelemetry/api');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { config, TraceIdRecorder, report, runScenario, SCENARIOS } = require('./common.cjs');

const recorder = new TraceIdRecorder();
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'compat-anthropic-native', 'scorecard.tracing_group_id': config.runId }),
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({
      url: `${config.otlpBase}/v1/traces`,
      headers: { Authorization: `Bearer ${config.key}` },
    })),
    recorder,
  ],
});
provider.register();
const anthropicModule = require('@anthropic-ai/sdk');
const Anthropic = anthropicModule.default || anthropicModule;
const anthropic = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: config.llmOrigin, maxRetries: 0 });

const steps = {
  anthropic: async (s) => {
    await anthropic.messages.create({ model: s.model, max_tokens: 64, system: s.system, messages: [{ role: 'user', content: s.prompt }] });
  },
  anthropic_stream: async (s) => {
    const stream = await anthropic.messages.create({ model: s.model, max_tokens: 64, system: s.system,
      messages: [{ role: 'user', content: s.prompt }], stream: true });
    for await (const event of stream) void event;
  },
};

(async () => {
  await context.with(context.active(), async () => {
    for (const name of SCENARIOS) {
      if (!steps[name]) continue;
      await runScenario(name, steps[name]);
      report(name, recorder.take());
    }
  });
  await provider.shutdown();
})().catch((err) => { console.error(err); process.exit(1); });
