// refresh.mjs rewrites ../data/prices.json from the @pydantic/genai-prices package pinned in
// package.json. Run it through `go generate ./internal/pricing` (which runs `npm ci` first).
// Only the fields the Go lookup reads are kept, so that the embedded snapshot stays small.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForUpdate } from '@pydantic/genai-prices';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(
  readFileSync(join(here, 'node_modules', '@pydantic', 'genai-prices', 'package.json'), 'utf8'),
);
const priceKeys = ['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok', 'requests_kcount'];

// waitForUpdate resolves to the provider list bundled with the package as long as
// updatePrices was never called, so this snapshot never depends on the network.
const providers = await waitForUpdate();
if (!Array.isArray(providers) || providers.length === 0) {
  throw new Error('genai-prices returned no providers');
}

function pickPrices(p) {
  const out = {};
  for (const k of priceKeys) {
    const v = p[k];
    if (v === undefined) continue;
    out[k] = typeof v === 'number' ? v : { base: v.base, tiers: v.tiers.map((t) => ({ start: t.start, price: t.price })) };
  }
  return out;
}

function convertPrices(prices) {
  if (!Array.isArray(prices)) return [{ prices: pickPrices(prices) }];
  return prices.map((c) => {
    const o = { prices: pickPrices(c.prices) };
    if (c.constraint) o.constraint = c.constraint;
    return o;
  });
}

let modelCount = 0;
const out = providers.map((p) => {
  const o = { id: p.id, name: p.name };
  if (p.provider_match) o.provider_match = p.provider_match;
  if (p.model_match) o.model_match = p.model_match;
  if (p.fallback_model_providers) o.fallback_model_providers = p.fallback_model_providers;
  o.models = p.models.map((m) => {
    modelCount++;
    return { id: m.id, match: m.match, prices: convertPrices(m.prices) };
  });
  return o;
});

const snapshot = {
  source: `${pkg.name}@${pkg.version}`,
  license: 'MIT, Copyright (c) Pydantic Services Inc. (see LICENSE beside this file)',
  homepage: pkg.homepage,
  generated: new Date().toISOString().slice(0, 10),
  providers: out,
};
writeFileSync(join(here, '..', 'data', 'prices.json'), JSON.stringify(snapshot, null, 1) + '\n');
console.log(`wrote ${out.length} providers, ${modelCount} models from ${snapshot.source}`);
