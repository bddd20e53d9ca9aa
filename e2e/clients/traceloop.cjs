// OpenLLMetry JS (@traceloop/node-server-sdk) auto-instrumenting the openai client. Pointed at
// tracehound only through TRACELOOP_BASE_URL and TRACELOOP_HEADERS, as its docs tell a user;
// batching off and a flush before exit so a short script loses nothing.
'use strict';
const traceloop = require('@traceloop/node-server-sdk');
const { config, scenarios, TraceIdRecorder, report, runScenario, SCENARIOS } = require('./common.cjs');

const recorder = new TraceIdRecorder();
traceloop.initialize({ appName: 'compat-traceloop', disableBatch: true, processor: recorder });
const { OpenAI } = require('openai');
// Traceloop's Anthropic instrumentation patches the SDK inside require(); when that throws,
// a user's app would crash at start-up. Report it as this scenario's failure instead.
let anthropic;
let anthropicLoadError;
try {
  const anthropicModule = require('@anthropic-ai/sdk');
  const Anthropic = anthropicModule.default || anthropicModule;
  anthropic = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: config.llmOrigin, maxRetries: 0 });
} catch (err) {
  anthropicLoadError = `require('@anthropic-ai/sdk') threw ${err.name}: ${err.message}`;
}

const openai = new OpenAI({ apiKey: 'sk-fake', baseURL: config.llmBaseURL, maxRetries: 0 });
const MODEL = scenarios.chat_model;

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
  tools: (s) => traceloop.withWorkflow({ name: 'weather_agent' }, async (question) => {
    const tools = [{ type: 'function', function: { name: s.tool_name, description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages = [{ role: 'user', content: question }];
    const first = await openai.chat.completions.create({ model: MODEL, messages, tools });
    const msg = first.choices[0].message;
    const call = msg.tool_calls[0];
    const result = await traceloop.withTool({ name: call.function.name }, async () => s.tool_result);
    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: result });
    const second = await openai.chat.completions.create({ model: MODEL, messages, tools });
    return second.choices[0].message.content;
  }, s.prompt),
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
  await traceloop.withAssociationProperties({
    'scorecard.tracing_group_id': config.runId,
    [traceloop.AssociationProperty.USER_ID]: 'user-compat',
    [traceloop.AssociationProperty.SESSION_ID]: 'session-compat',
  }, async () => {
    for (const name of SCENARIOS) {
      if (!steps[name]) continue;
      if (name.startsWith('anthropic') && anthropicLoadError) {
        report(name, [], anthropicLoadError);
        continue;
      }
      await runScenario(name, steps[name]);
      report(name, recorder.take());
    }
  });
  await traceloop.forceFlush();
})().catch((err) => { console.error(err); process.exit(1); });
