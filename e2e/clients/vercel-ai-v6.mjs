// Vercel AI SDK 6 (the previous major) with `experimental_telemetry` and the OpenTelemetry JS
// SDK exporting OTLP/HTTP JSON. The run id travels as telemetry metadata
// (ai.telemetry.metadata.scorecard.tracing_group_id), the SDK's way to add user attributes.
import * as ai from 'ai-v6';
import { createOpenAI } from 'ai-sdk-openai-v3';
import { createAnthropic } from 'ai-sdk-anthropic-v3';
import { z } from 'zod';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { config, setupTracing, run } from './vercel-ai-common.mjs';

const { provider, recorder } = setupTracing('compat-vercel-ai-v6', new OTLPTraceExporter({
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
