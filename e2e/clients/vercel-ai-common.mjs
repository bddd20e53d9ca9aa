// The scenarios for the Vercel AI SDK clients, shared by both majors: each passes its own
// `ai` module, OpenAI provider and per-call telemetry options.
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { resourceFromAttributes } from '@opentelemetry/resources';

const require = createRequire(import.meta.url);
export const { config, scenarios, TraceIdRecorder, report, runScenario, SCENARIOS } = require('./common.cjs');

// setupTracing registers a global tracer provider exporting through `exporter`, as the AI SDK
// telemetry docs show (the SDK takes its tracer from the global OpenTelemetry API).
export function setupTracing(service, exporter) {
  const recorder = new TraceIdRecorder();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(exporter), recorder],
  });
  provider.register();
  return { provider, recorder, tracer: trace.getTracer(service) };
}

export async function run({ ai, openai, anthropic, z, telemetry, recorder, provider }) {
  const { generateText, streamText, embed, tool, stepCountIs } = ai;
  const model = openai.chat(scenarios.chat_model);
  const steps = {
    chat: (s) => generateText({ model, prompt: s.prompt, maxRetries: 0, ...telemetry('chat') }),
    stream: async (s) => {
      const result = streamText({ model, prompt: s.prompt, maxRetries: 0, ...telemetry('stream'),
        onError: () => {} });
      for await (const part of result.textStream) void part;
      await result.usage;
    },
    // openai(model) is the AI SDK's default OpenAI model: the Responses API.
    responses: (s) => generateText({ model: openai(scenarios.chat_model), prompt: s.prompt, maxRetries: 0, ...telemetry('responses') }),
    responses_stream: async (s) => {
      const result = streamText({ model: openai(scenarios.chat_model), prompt: s.prompt, maxRetries: 0,
        ...telemetry('responses_stream'), onError: () => {} });
      for await (const part of result.textStream) void part;
      await result.usage;
    },
    tools: (s) => generateText({
      model,
      prompt: s.prompt,
      maxRetries: 0,
      tools: {
        [s.tool_name]: tool({
          description: 'Current weather in a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async () => s.tool_result,
        }),
      },
      stopWhen: stepCountIs(2),
      ...telemetry('tools'),
    }),
    embeddings: (s) => embed({ model: openai.embedding(s.model), value: s.input, maxRetries: 0, ...telemetry('embeddings') }),
    anthropic: (s) => generateText({ model: anthropic(s.model), system: s.system, prompt: s.prompt, maxRetries: 0,
      ...telemetry('anthropic') }),
    anthropic_stream: async (s) => {
      const result = streamText({ model: anthropic(s.model), system: s.system, prompt: s.prompt, maxRetries: 0,
        ...telemetry('anthropic_stream'), onError: () => {} });
      for await (const part of result.textStream) void part;
      await result.usage;
    },
    error: (s) => generateText({ model, prompt: s.prompt, maxRetries: 0, ...telemetry('error') }),
    server_error: (s) => generateText({ model, prompt: s.prompt, maxRetries: 0, ...telemetry('server_error') }),
  };
  for (const name of SCENARIOS) {
    if (!steps[name]) continue;
    await runScenario(name, steps[name]);
    report(name, recorder.take());
  }
  await provider.shutdown();
}
