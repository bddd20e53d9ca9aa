// Shared by the client scripts: configuration from the environment that e2e/compat_test.go
// sets, the scenarios every client runs, and the one line per scenario the test reads.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const scenarios = JSON.parse(fs.readFileSync(path.join(__dirname, 'scenarios.json'), 'utf8'));

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: these scripts are run by e2e/compat_test.go (go test ./e2e -run Compat)`);
  }
  return v;
}

const config = {
  // OTLP/HTTP base URL of the tracehound under test, e.g. http://127.0.0.1:4318
  otlpBase: env('COMPAT_OTLP_HTTP'),
  // API key of this client's project.
  key: env('COMPAT_KEY'),
  // Base URL of the fake OpenAI server, e.g. http://127.0.0.1:1234/v1; it also answers
  // Anthropic's /v1/messages.
  llmBaseURL: env('COMPAT_LLM_BASE_URL'),
  // Every trace of this client belongs to this run (scorecard.tracing_group_id).
  runId: env('COMPAT_RUN_ID'),
};

// The order every client runs its scenarios in; the test expects one report line for each.
// A script without a step for a scenario does not run it (the test marks it n/a).
const SCENARIOS = ['chat', 'stream', 'responses', 'responses_stream', 'tools', 'embeddings', 'anthropic', 'anthropic_stream', 'error', 'server_error'];

// A span processor that notes the trace IDs of the spans that end, so a script can say which
// traces a scenario produced.
class TraceIdRecorder {
  constructor() { this.ids = new Set(); }
  onStart() {}
  onEnd(span) {
    this.ids.add(span.spanContext().traceId);
    if (process.env.COMPAT_DEBUG) {
      process.stderr.write(`span ${span.spanContext().traceId} ${span.name} status=${span.status.code} ${JSON.stringify(span.attributes)}\n`);
    }
  }
  forceFlush() { return Promise.resolve(); }
  shutdown() { return Promise.resolve(); }
  take() { const ids = [...this.ids]; this.ids.clear(); return ids; }
}

function report(scenario, traceIds, note) {
  const line = { scenario, trace_ids: [...new Set(traceIds)] };
  if (note) line.note = note;
  process.stdout.write('COMPAT ' + JSON.stringify(line) + '\n');
}

// isScriptedFailure tells the 429/500 the fake server returns for the error scenarios apart
// from any other failure, which must fail the script.
function isScriptedFailure(scenario, err) {
  const want = scenarios[scenario] && scenarios[scenario].status;
  if (!want) return false;
  const status = err && (err.status ?? err.statusCode ?? (err.lastError && err.lastError.statusCode) ??
    (err.cause && (err.cause.status ?? err.cause.statusCode)));
  return status === want;
}

// runScenario runs one scenario; the error scenarios must fail with their scripted status.
async function runScenario(name, fn) {
  if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}`);
  try {
    await fn(scenarios[name]);
  } catch (err) {
    if (!isScriptedFailure(name, err)) throw err;
    return;
  }
  if (scenarios[name].status) {
    throw new Error(`scenario ${name}: the call succeeded, want HTTP ${scenarios[name].status}`);
  }
}

// The origin without /v1, for SDKs that append /v1/... themselves (Anthropic's).
config.llmOrigin = config.llmBaseURL.replace(/\/v1\/?$/, '');

module.exports = { scenarios, config, SCENARIOS, TraceIdRecorder, report, runScenario };
