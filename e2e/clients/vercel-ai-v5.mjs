// Vercel AI SDK 5 (the major the shared fixtures were captured with) with
// `experimental_telemetry`, exporting OTLP/HTTP JSON; the run id travels as telemetry metadata,
// as in the AI SDK 6 client.
import * as ai from 'ai-v5';
import { createOpenAI } from 'ai-sdk-openai-v2';
import { createAnthropic } from 'ai-sdk-anthropic-v2';
import { z } from 'zod';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { config, setupTracing, run } from './vercel-ai-common.mjs';

const { provider, recorder } = setupTracing('compat-vercel-ai-v5', new OTLPTraceExporter({
  url: `${config.otlpBase}/v1/traces`,
  headers: { Authorization: `Bearer ${config.key}` },
}));
const openai = createOpenAI({ apiKey: 'sk-fake', baseURL: config.llmBaseURL });
const anthropic = createAnthropic({ apiKey: 'sk-ant-fake', baseURL: config.llmBaseURL });
const telemetry = (scenario) => ({
  experimental_telemetry: {
    isEnabled: true,
    functionId: `compat-${scenario}`,
    metadata: { 'scorecard.tracing_group_id': config.runId },
  },
});

run({ ai, openai, anthropic, z, telemetry, recorder, provider }).catch((err) => { console.error(err); process.exit(1); });
