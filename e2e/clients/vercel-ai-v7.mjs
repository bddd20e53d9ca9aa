// Vercel AI SDK 7 (the current major) with its OpenTelemetry integration (@ai-sdk/otel,
// registered once with registerTelemetry), exporting OTLP/HTTP protobuf. The integration's
// enrichSpan hook adds the run id as a span attribute; embedding inputs are opted in.
import * as ai from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { OpenTelemetry } from '@ai-sdk/otel';
import { z } from 'zod';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { config, setupTracing, run } from './vercel-ai-common.mjs';

const { provider, recorder } = setupTracing('compat-vercel-ai-v7', new OTLPTraceExporter({
  url: `${config.otlpBase}/v1/traces`,
  headers: { Authorization: `Bearer ${config.key}` },
}));
ai.registerTelemetry(new OpenTelemetry({
  embedding: true,
  enrichSpan: () => ({ 'scorecard.tracing_group_id': config.runId }),
}));
const openai = createOpenAI({ apiKey: 'sk-fake', baseURL: config.llmBaseURL });
const anthropic = createAnthropic({ apiKey: 'sk-ant-fake', baseURL: config.llmBaseURL });
const telemetry = (scenario) => ({ telemetry: { functionId: `compat-${scenario}` } });

run({ ai, openai, anthropic, z, telemetry, recorder, provider }).catch((err) => { console.error(err); process.exit(1); });
