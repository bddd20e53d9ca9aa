// OpenInference (@arizeai/openinference-instrumentation-openai) on the OpenTelemetry JS SDK,
// exported over OTLP/HTTP protobuf with the x-tracehound-api-key header. Session, user and the
// run id come from openinference-core's context helpers, as its docs show.
'use strict';
const { context } = require('@opentelemetry/api');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
const { AnthropicInstrumentation } = require('@arizeai/openinference-instrumentation-anthropic');
const { setAttributes, setSession, setUser } = require('@arizeai/openinference-core');
const { config, scenarios, TraceIdRecorder, report, runScenario, SCENARIOS } = require('./common.cjs');

const recorder = new TraceIdRecorder();
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'compat-openinference' }),
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({
      url: `${config.otlpBase}/v1/traces`,
      headers: { 'x-tracehound-api-key': config.key },
    })),
    recorder,
  ],
});
provider.register();
const openaiModule = require('openai');
new OpenAIInstrumentation({ tracerProvider: provider }).manuallyInstrument(openaiModule);
const anthropicModule = require('@anthropic-ai/sdk');
new AnthropicInstrumentation({ tracerProvider: provider }).manuallyInstrument(anthropicModule);
const Anthropic = anthropicModule.default || anthropicModule;
const anthropic = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: config.llmOrigin, maxRetries: 0 });

const openai = new openaiModule.OpenAI({ apiKey: 'sk-fake', baseURL: config.llmBaseURL, maxRetries: 0 });
const MODEL = scenarios.chat_model;
const tracer = provider.getTracer('compat-openinference');

const steps = {
  chat: async (s) => {
    await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: s.prompt }] });
  },
  stream: async (s) => {
    const stream = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: s.prompt }], stream: true, stream_options: { include_usage: true },
    });
    for await (const chunk of stream) void chunk;
  },
  responses: async (s) => {
    await openai.responses.create({ model: MODEL, input: s.prompt });
  },
  responses_stream: async (s) => {
    const stream = await openai.responses.create({ model: MODEL, input: s.prompt, stream: true });
    for await (const event of stream) void event;
  },
  // An agent span (openinference.span.kind AGENT) around the two calls and the tool.
  tools: (s) => tracer.startActiveSpan('weather_agent', {
    attributes: { 'openinference.span.kind': 'AGENT', 'input.value': s.prompt, 'input.mime_type': 'text/plain' },
  }, async (agent) => {
    const tools = [{ type: 'function', function: { name: s.tool_name, description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages = [{ role: 'user', content: s.prompt }];
    const first = await openai.chat.completions.create({ model: MODEL, messages, tools });
    const msg = first.choices[0].message;
    const call = msg.tool_calls[0];
    const result = tracer.startActiveSpan(call.function.name, {
      attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': call.function.name, 'input.value': call.function.arguments },
    }, (span) => { span.setAttribute('output.value', s.tool_result); span.end(); return s.tool_result; });
    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: result });
    const second = await openai.chat.completions.create({ model: MODEL, messages, tools });
    agent.setAttributes({ 'output.value': second.choices[0].message.content, 'output.mime_type': 'text/plain' });
    agent.end();
  }),
  embeddings: async (s) => {
    await openai.embeddings.create({ model: s.model, input: s.input });
  },
  anthropic: async (s) => {
    await anthropic.messages.create({ model: s.model, max_tokens: 64, system: s.system, messages: [{ role: 'user', content: s.prompt }] });
  },
  anthropic_stream: async (s) => {
    const stream = await anthropic.messages.create({ model: s.model, max_tokens: 64, system: s.system,
      messages: [{ role: 'user', content: s.prompt }], stream: true });
    for await (const event of stream) void event;
  },
  error: async (s) => {
    await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: s.prompt }] });
  },
  server_error: async (s) => {
    await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: s.prompt }] });
  },
};

(async () => {
  let ctx = setAttributes(context.active(), { 'scorecard.tracing_group_id': config.runId });
  ctx = setSession(ctx, { sessionId: 'session-compat' });
  ctx = setUser(ctx, { userId: 'user-compat' });
  await context.with(ctx, async () => {
    for (const name of SCENARIOS) {
      if (!steps[name]) continue;
      await runScenario(name, steps[name]);
      report(name, recorder.take());
    }
  });
  await provider.shutdown();
})().catch((err) => { console.error(err); process.exit(1); });
