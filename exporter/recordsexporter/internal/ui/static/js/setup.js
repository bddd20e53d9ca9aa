// Setup and settings: instrumentation snippets filled with this server's endpoints, the API
// key, and the user ID behind "My recent records".
import { getKey, promptKey, setKey } from './api.js';
import { append, button, clear, copyButton, h, toast } from './dom.js';

const ENDPOINTS_STORAGE = 'tracehound.endpoints';
const USER_STORAGE = 'tracehound.userId';

function loadEndpoints() {
  const d = { host: location.hostname || '127.0.0.1', grpc: '4317', http: '4318', proxy: '4319', scheme: 'http' };
  try { Object.assign(d, JSON.parse(localStorage.getItem(ENDPOINTS_STORAGE) || '{}')); } catch { /* defaults */ }
  return d;
}

function hostPart(host) {
  return host.includes(':') && !host.startsWith('[') ? '[' + host + ']' : host;
}

function snippet(title, text, note) {
  return h('div', { class: 'snippet-block' },
    title ? h('h3', { text: title }) : null,
    note ? h('p', { class: 'muted', text: note }) : null,
    h('div', { class: 'snippet' }, h('pre', {}, h('code', { text })), copyButton(text)));
}

export function setupPage(root) {
  const page = h('section', { class: 'page setup' });
  root.appendChild(page);
  const ep = loadEndpoints();
  let showKey = false;

  function draw() {
    clear(page);
    const host = hostPart(ep.host);
    const httpBase = ep.scheme + '://' + host + ':' + ep.http;
    const grpcBase = ep.scheme + '://' + host + ':' + ep.grpc;
    const proxyBase = ep.scheme + '://' + host + ':' + ep.proxy;
    const apiBase = location.origin;
    const key = showKey && getKey() ? getKey() : '<key>';

    const hostIn = h('input', { class: 'input w-m', value: ep.host, attrs: { id: 'setup-host', autocomplete: 'off' } });
    const ports = ['grpc', 'http', 'proxy'].map((k) => h('input', { class: 'input w-s', value: ep[k], attrs: { id: 'setup-' + k, inputmode: 'numeric', autocomplete: 'off' } }));
    const saveEp = () => {
      ep.host = hostIn.value.trim() || location.hostname;
      ['grpc', 'http', 'proxy'].forEach((k, i) => { ep[k] = ports[i].value.trim() || ep[k]; });
      try { localStorage.setItem(ENDPOINTS_STORAGE, JSON.stringify(ep)); } catch { /* ignore */ }
      draw();
    };
    for (const el of [hostIn, ...ports]) el.addEventListener('change', saveEp);
    const keyToggle = h('input', { attrs: { type: 'checkbox', id: 'fill-key' }, checked: showKey, disabled: !getKey() });
    keyToggle.addEventListener('change', () => { showKey = keyToggle.checked; draw(); });
    let user = '';
    try { user = localStorage.getItem(USER_STORAGE) || ''; } catch { /* ignore */ }
    const userIn = h('input', { class: 'input w-m', value: user, attrs: { id: 'setup-user', placeholder: 'user-42', autocomplete: 'off' } });
    userIn.addEventListener('change', () => {
      try { if (userIn.value.trim()) localStorage.setItem(USER_STORAGE, userIn.value.trim()); else localStorage.removeItem(USER_STORAGE); } catch { /* ignore */ }
      toast('Saved');
    });

    append(page,
      h('div', { class: 'page-head' }, h('h1', { text: 'Setup' })),
      h('p', { class: 'muted' }, 'Send traces to this tracehound and they show up on the Records page within a second. Pick the path that fits your application; every snippet below is filled in with this server\'s endpoints.'),
      h('div', { class: 'section' },
        h('h2', { text: 'This server' }),
        h('div', { class: 'filters' },
          h('div', { class: 'field' }, h('label', { attrs: { for: 'setup-host' }, text: 'Host your apps reach' }), hostIn),
          h('div', { class: 'field' }, h('label', { attrs: { for: 'setup-grpc' }, text: 'OTLP gRPC port' }), ports[0]),
          h('div', { class: 'field' }, h('label', { attrs: { for: 'setup-http' }, text: 'OTLP HTTP port' }), ports[1]),
          h('div', { class: 'field' }, h('label', { attrs: { for: 'setup-proxy' }, text: 'LLM proxy port' }), ports[2])),
        h('dl', { class: 'kv' },
          h('dt', { text: 'OTLP/HTTP' }), h('dd', { class: 'mono', text: httpBase + '/v1/traces  (also ' + httpBase + '/otel/v1/traces)' }),
          h('dt', { text: 'OTLP/gRPC' }), h('dd', { class: 'mono', text: grpcBase }),
          h('dt', { text: 'LLM proxy' }), h('dd', { class: 'mono', text: proxyBase }),
          h('dt', { text: 'API and UI' }), h('dd', { class: 'mono', text: apiBase + '/api/v1' })),
        h('p', { class: 'muted', text: 'The default configuration listens on 127.0.0.1 only. To accept traces from other machines, start tracehound with TRACEHOUND_OTLP_GRPC_ENDPOINT=0.0.0.0:' + ep.grpc + ' and TRACEHOUND_OTLP_HTTP_ENDPOINT=0.0.0.0:' + ep.http + '.' }),
        h('label', { class: 'toggle' }, keyToggle, getKey() ? ' Fill in my API key (it is shown in the snippets)' : ' Enter an API key to fill it in the snippets')),

      h('div', { class: 'section', attrs: { id: 'setup-otlp' } },
        h('h2', { text: 'Any OpenTelemetry SDK (environment variables)' }),
        h('p', {}, 'Works with every OTel SDK and auto-instrumentation (Python, Node.js, Java, .NET, Go with the env config) and with OpenInference and Vercel AI SDK spans.'),
        snippet('OTLP over HTTP', [
          'export OTEL_EXPORTER_OTLP_ENDPOINT=' + httpBase,
          'export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ' + key + '"',
          'export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
          'export OTEL_SERVICE_NAME=my-app',
        ].join('\n')),
        snippet('OTLP over gRPC', [
          'export OTEL_EXPORTER_OTLP_ENDPOINT=' + grpcBase,
          'export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ' + key + '"',
          'export OTEL_EXPORTER_OTLP_PROTOCOL=grpc',
        ].join('\n'))),

      h('div', { class: 'section', attrs: { id: 'setup-openllmetry' } },
        h('h2', { text: 'OpenLLMetry (Traceloop SDK)' }),
        snippet('Environment', [
          'export TRACELOOP_BASE_URL=' + httpBase,
          'export TRACELOOP_HEADERS="Authorization=Bearer ' + key + '"',
        ].join('\n')),
        snippet('Python', [
          'pip install traceloop-sdk',
          '',
          'from traceloop.sdk import Traceloop',
          'Traceloop.init(app_name="my-app", disable_batch=False)',
          '# optional: user, session and metadata on every record',
          'Traceloop.set_association_properties({"user_id": "user-42", "session_id": "sess-1"})',
        ].join('\n'))),

      h('div', { class: 'section', attrs: { id: 'setup-claude' } },
        h('h2', { text: 'Claude Agent SDK / Claude Code' }),
        snippet('Environment', [
          'export ENABLE_BETA_TRACING_DETAILED=1',
          'export BETA_TRACING_ENDPOINT=' + httpBase + '/otel',
          'export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ' + key + '"',
        ].join('\n'), 'tracehound accepts the agent SDK\'s /otel/v1/traces and /otel/v1/logs paths.')),

      h('div', { class: 'section', attrs: { id: 'setup-proxy' } },
        h('h2', { text: 'LLM proxy (no SDK changes beyond the base URL)' }),
        h('p', {}, 'Point an OpenAI- or Anthropic-compatible client at the proxy. Your provider key passes through untouched and is never stored; the tracehound key goes in x-tracehound-api-key.'),
        snippet('Environment', [
          'export OPENAI_BASE_URL=' + proxyBase + '/v1',
          'export ANTHROPIC_BASE_URL=' + proxyBase,
        ].join('\n')),
        snippet('Python (OpenAI)', [
          'from openai import OpenAI',
          '',
          'client = OpenAI(',
          '    base_url="' + proxyBase + '/v1",',
          '    default_headers={"x-tracehound-api-key": "' + key + '"},',
          ')',
        ].join('\n')),
        snippet('Python (Anthropic)', [
          'import anthropic',
          '',
          'client = anthropic.Anthropic(',
          '    base_url="' + proxyBase + '",',
          '    default_headers={"x-tracehound-api-key": "' + key + '"},',
          ')',
        ].join('\n')),
        snippet('Other upstreams', proxyBase + '/<upstream-name>/v1/...   e.g. ' + proxyBase + '/ollama/v1/chat/completions', 'Any upstream named in the llmproxy configuration is reachable under its name.')),

      h('div', { class: 'section', attrs: { id: 'setup-sdks' } },
        h('h2', { text: 'SDK setup in code' }),
        snippet('Go', [
          'import (',
          '\t"go.opentelemetry.io/otel"',
          '\t"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"',
          '\tsdktrace "go.opentelemetry.io/otel/sdk/trace"',
          ')',
          '',
          'exp, err := otlptracehttp.New(ctx,',
          '\totlptracehttp.WithEndpoint("' + host + ':' + ep.http + '"),',
          '\totlptracehttp.WithInsecure(),',
          '\totlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer ' + key + '"}),',
          ')',
          'if err != nil {',
          '\treturn err',
          '}',
          'tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))',
          'defer tp.Shutdown(ctx)',
          'otel.SetTracerProvider(tp)',
        ].join('\n')),
        snippet('Python', [
          'pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http',
          '',
          'from opentelemetry import trace',
          'from opentelemetry.sdk.trace import TracerProvider',
          'from opentelemetry.sdk.trace.export import BatchSpanProcessor',
          'from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter',
          '',
          'provider = TracerProvider()',
          'provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(',
          '    endpoint="' + httpBase + '/v1/traces",',
          '    headers={"Authorization": "Bearer ' + key + '"},',
          ')))',
          'trace.set_tracer_provider(provider)',
        ].join('\n')),
        snippet('TypeScript (Node.js)', [
          'npm install @opentelemetry/sdk-node @opentelemetry/exporter-trace-otlp-proto',
          '',
          "import { NodeSDK } from '@opentelemetry/sdk-node';",
          "import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';",
          '',
          'const sdk = new NodeSDK({',
          "  serviceName: 'my-app',",
          '  traceExporter: new OTLPTraceExporter({',
          "    url: '" + httpBase + "/v1/traces',",
          "    headers: { Authorization: 'Bearer " + key + "' },",
          '  }),',
          '});',
          'sdk.start();',
          '// Vercel AI SDK: pass experimental_telemetry: { isEnabled: true } to generateText/streamText.',
        ].join('\n')),
        snippet('Group records into a run, tag users and metadata', [
          '# span attributes tracehound reads (on any span of the trace)',
          'tracehound.run.id          = "nightly-eval-2026-11-25"   # or scorecard.tracing_group_id',
          'tracehound.testcase.id     = "tc-17"',
          'user.id                    = "user-42"',
          'session.id                 = "sess-1"',
          'tracehound.metadata.<key>  = "<value>"                   # filterable as meta.<key>',
        ].join('\n'))),

      h('div', { class: 'section', attrs: { id: 'setup-keys' } },
        h('h2', { text: 'API keys' }),
        h('p', {}, 'Every request to tracehound (OTLP, proxy, this UI\'s API) carries a key, and each key belongs to a project. The first start printed a key for the default project; create more on the server with:'),
        snippet(null, [
          'tracehound keys create --project default --name my-app',
          'tracehound keys list',
          'tracehound keys revoke --name my-app',
        ].join('\n'), 'A running tracehound picks up new and revoked keys without a restart.')),

      h('div', { class: 'section', attrs: { id: 'setup-api' } },
        h('h2', { text: 'Query API' }),
        snippet(null, 'curl -H "Authorization: Bearer ' + key + '" "' + apiBase + '/api/v1/records?limit=10"')),

      h('div', { class: 'section', attrs: { id: 'settings' } },
        h('h2', { text: 'Settings (this browser)' }),
        h('div', { class: 'filters' },
          h('div', { class: 'field' }, h('label', { text: 'API key' }), h('div', { class: 'pair' },
            h('span', { text: getKey() ? 'set (' + getKey().slice(0, 4) + '…)' : 'not set' }),
            button(getKey() ? 'Change' : 'Set key', () => promptKey(''), 'btn-small'),
            getKey() ? button('Forget', () => { setKey(''); draw(); toast('Key removed from this browser'); }, 'btn-small btn-ghost') : null)),
          h('div', { class: 'field' }, h('label', { attrs: { for: 'setup-user' }, text: 'Your user ID (for "My recent records")' }), userIn))),
    );
  }
  draw();
  const onStorage = () => draw();
  window.addEventListener('storage', onStorage);
  return () => window.removeEventListener('storage', onStorage);
}
