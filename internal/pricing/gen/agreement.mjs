// agreement.mjs writes ../testdata/agreement.json: for every model ID named by an
// `equals` rule in the bundled data, the price that @pydantic/genai-prices itself computes,
// with and without the provider ID. pricing_test.go checks the Go lookup against it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calcPrice, waitForUpdate } from '@pydantic/genai-prices';

const here = dirname(fileURLToPath(import.meta.url));
const usage = { input_tokens: 1000, output_tokens: 500, cache_read_tokens: 100 };
const at = new Date('2026-11-25T12:00:00Z');
const providers = await waitForUpdate();
const ids = [];
const walk = (m, out) => {
  if (m.equals) out.push(m.equals);
  for (const k of ['or', 'and']) if (m[k]) m[k].forEach((x) => walk(x, out));
};
for (const p of providers) for (const m of p.models) { const out = []; walk(m.match, out); for (const id of out) ids.push([p.id, id]); }
const cases = [];
for (const [provider, model] of ids) {
  for (const pid of [provider, '']) {
    let r = null;
    try { r = calcPrice(usage, model, { providerId: pid || undefined, timestamp: at }); } catch { continue; }
    cases.push({ provider: pid, model, match: r ? `${r.provider.id}/${r.model.id}` : '', usd: r ? r.total_price : 0 });
  }
}
mkdirSync(join(here, '..', 'testdata'), { recursive: true });
writeFileSync(join(here, '..', 'testdata', 'agreement.json'), JSON.stringify({ usage, at: at.toISOString(), cases }) + '\n');
console.log(`wrote ${cases.length} agreement cases`);
