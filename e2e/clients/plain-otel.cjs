// Plain OpenTelemetry JS SDK, spans written by hand with the current GenAI semantic
// conventions (gen_ai.input.messages / gen_ai.output.messages JSON, gen_ai.usage.*),
// exported over OTLP/HTTP JSON with a batch span processor flushed before exit.
'use strict';
const { trace, context, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { config, scenarios, TraceIdRecorder, report, runScenario, SCENARIOS } = require('./common.cjs');

const recorder = new TraceIdRecorder();
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'compat-plain-otel' }),
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({
      url: `${config.otlpBase}/v1/traces`,
      headers: { Authorization: `Bearer ${config.key}` },
    })),
    recorder,
  ],
});
provider.register();
const tracer = trace.getTracer('compat-plain-otel', '1.0.0');
const MODEL = scenarios.chat_model;

class HTTPError extends Error {
  constructor(status, body) { super(`HTTP ${status}: ${body}`); this.status = status; this.name = 'HTTPError'; }
}

async function post(path, body) {
  const resp = await fetch(`${config.llmBaseURL}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-fake' },
    body: JSON.stringify(body),
  });
  if (!resp.ok) throw new HTTPError(resp.status, await resp.text());
  return resp;
}

// semconv message parts from an OpenAI chat message.
function toSemconv(m) {
  if (m.role === 'tool') {
    return { role: 'tool', parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: m.content }] };
  }
  const parts = [];
  if (m.content) parts.push({ type: 'text', content: m.content });
  for (const tc of m.tool_calls || []) {
    parts.push({ type: 'tool_call', id: tc.id, name: tc.function.name, arguments: JSON.parse(tc.function.arguments) });
  }
  return { role: m.role, parts };
}

function endWithError(span, err) {
  span.recordException(err);
  span.setAttribute('error.type', String(err.status || err.name));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  span.end();
}

// chat makes one chat completion inside a CLIENT span "chat <model>".
async function chat(messages, { tools, stream, rootAttrs } = {}) {
  return tracer.startActiveSpan(`chat ${MODEL}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': MODEL,
      'gen_ai.input.messages': JSON.stringify(messages.map(toSemconv)),
      'server.address': '127.0.0.1',
      ...(tools ? { 'gen_ai.tool.definitions': JSON.stringify(tools) } : {}),
      ...rootAttrs,
    },
  }, async (span) => {
    try {
      const req = { model: MODEL, messages, ...(tools ? { tools } : {}) };
      let msg, finish, usage, model, id;
      if (stream) {
        const resp = await post('/chat/completions', { ...req, stream: true, stream_options: { include_usage: true } });
        const text = await resp.text();
        let content = '';
        for (const line of text.split('\n')) {
          if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
          const chunk = JSON.parse(line.slice(6));
          id = chunk.id; model = chunk.model;
          for (const c of chunk.choices) {
            if (c.delta.content) content += c.delta.content;
            if (c.finish_reason) finish = c.finish_reason;
          }
          if (chunk.usage) usage = chunk.usage;
        }
        msg = { role: 'assistant', content };
      } else {
        const body = await (await post('/chat/completions', req)).json();
        msg = body.choices[0].message; finish = body.choices[0].finish_reason;
        usage = body.usage; model = body.model; id = body.id;
      }
      span.setAttributes({
        'gen_ai.response.model': model,
        'gen_ai.response.id': id,
        'gen_ai.response.finish_reasons': [finish],
        'gen_ai.usage.input_tokens': usage.prompt_tokens,
        'gen_ai.usage.output_tokens': usage.completion_tokens,
        'gen_ai.output.messages': JSON.stringify([{ ...toSemconv(msg), finish_reason: finish }]),
      });
      span.end();
      return msg;
    } catch (err) {
      endWithError(span, err);
      throw err;
    }
  });
}

const runAttr = { 'scorecard.tracing_group_id': config.runId, 'user.id': 'user-compat', 'session.id': 'session-compat' };

const steps = {
  chat: (s) => chat([{ role: 'user', content: s.prompt }], { rootAttrs: runAttr }),
  stream: (s) => chat([{ role: 'user', content: s.prompt }], { stream: true, rootAttrs: runAttr }),
  error: (s) => chat([{ role: 'user', content: s.prompt }], { rootAttrs: runAttr }),
  server_error: (s) => chat([{ role: 'user', content: s.prompt }], { rootAttrs: runAttr }),
  tools: (s) => tracer.startActiveSpan('invoke_agent weather_agent', {
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather_agent', ...runAttr },
  }, async (agent) => {
    try {
      const tools = [{ type: 'function', function: { name: s.tool_name, description: 'Current weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
      const messages = [{ role: 'user', content: s.prompt }];
      const first = await chat(messages, { tools });
      const call = first.tool_calls[0];
      const result = await tracer.startActiveSpan(`execute_tool ${call.function.name}`, {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': call.function.name,
          'gen_ai.tool.call.id': call.id,
          'gen_ai.tool.call.arguments': call.function.arguments,
        },
      }, (span) => { span.setAttribute('gen_ai.tool.call.result', s.tool_result); span.end(); return s.tool_result; });
      messages.push(first, { role: 'tool', tool_call_id: call.id, content: result });
      await chat(messages, { tools });
      agent.end();
    } catch (err) {
      endWithError(agent, err);
      throw err;
    }
  }),
  anthropic: (s) => tracer.startActiveSpan(`chat ${s.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': s.model,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: s.system }]),
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: s.prompt }] }]),
      ...runAttr,
    },
  }, async (span) => {
    const resp = await fetch(`${config.llmOrigin}/v1/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-api-key': 'sk-ant-fake', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: s.model, max_tokens: 64, system: s.system, messages: [{ role: 'user', content: s.prompt }] }),
    });
    if (!resp.ok) { const err = new HTTPError(resp.status, await resp.text()); endWithError(span, err); throw err; }
    const body = await resp.json();
    span.setAttributes({
      'gen_ai.response.model': body.model,
      'gen_ai.response.id': body.id,
      'gen_ai.response.finish_reasons': [body.stop_reason],
      'gen_ai.usage.input_tokens': body.usage.input_tokens,
      'gen_ai.usage.output_tokens': body.usage.output_tokens,
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant',
        parts: body.content.map((c) => ({ type: 'text', content: c.text })), finish_reason: body.stop_reason }]),
    });
    span.end();
  }),
  embeddings: (s) => tracer.startActiveSpan(`embeddings ${s.model}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': s.model, ...runAttr },
  }, async (span) => {
    const body = await (await post('/embeddings', { model: s.model, input: s.input, encoding_format: 'float' })).json();
    span.setAttributes({
      'gen_ai.response.model': body.model,
      'gen_ai.usage.input_tokens': body.usage.prompt_tokens,
      'gen_ai.embeddings.dimension.count': body.data[0].embedding.length,
    });
    span.end();
  }),
};

(async () => {
  for (const name of SCENARIOS) {
    if (!steps[name]) continue;
    await runScenario(name, steps[name]);
    report(name, recorder.take());
  }
  await provider.shutdown();
})().catch((err) => { console.error(err); process.exit(1); });
