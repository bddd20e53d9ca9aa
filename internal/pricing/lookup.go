package pricing

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// providerAliases maps OpenTelemetry gen_ai.provider.name values (and common SDK spellings)
// onto genai-prices provider IDs where the two differ.
var providerAliases = map[string]string{
	"aws.bedrock":        "aws",
	"amazon-bedrock":     "aws",
	"bedrock":            "aws",
	"azure.ai.openai":    "azure",
	"azure.ai.inference": "azure",
	"azure-openai":       "azure",
	"gcp.gemini":         "google",
	"gcp.vertex_ai":      "google",
	"gcp.gen_ai":         "google",
	"vertex_ai":          "google",
	"vertexai":           "google",
	"gemini":             "google",
	"mistral_ai":         "mistral",
	"mistralai":          "mistral",
	"x_ai":               "x-ai",
	"xai":                "x-ai",
	"moonshot":           "moonshotai",
}

// bedrockVendors are the vendor segments of Bedrock model IDs such as
// "us.anthropic.claude-3-5-sonnet-20241022-v2:0".
var bedrockVendors = map[string]bool{
	"anthropic": true, "meta": true, "amazon": true, "mistral": true, "cohere": true,
	"ai21": true, "deepseek": true, "openai": true, "qwen": true, "writer": true,
}

var (
	bedrockID = regexp.MustCompile(`^(?:(?:us|eu|apac|ap|global|us-gov|jp|au|ca)\.)?([a-z0-9-]+)\.(.+?)(?:-v\d+(?::\d+)?)?$`)
	// compactDate is the YYYYMMDD date suffix of a snapshot ID, normalized to YYYY-MM-DD
	// the way genai-prices does.
	compactDate = regexp.MustCompile(`-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(-|:|$)`)
	dateSuffix  = regexp.MustCompile(`(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|@latest|-latest)$`)
)

// Lookup finds the price of the first of models (e.g. response model, then request model)
// that the table knows, given the provider name as instrumentations spell it (may be
// empty). It tries, in order: user overrides by exact ID; the provider's own match rules;
// the provider detected from the model ID; the ID without a "vendor/" or Bedrock
// "region.vendor." prefix and "-vN:M" suffix; and the ID without a trailing date. It never
// matches by an arbitrary prefix, so an unknown "gpt-4o-foo" is not priced as "gpt-4o".
func (t *Table) Lookup(providerName string, models ...string) (*Model, bool) {
	if t == nil {
		return nil, false
	}
	if len(models) > 2 {
		return t.lookup(providerName, models)
	}
	key := cacheKey{provider: providerName, n: len(models)}
	copy(key.models[:], models)
	t.mu.RLock()
	m, hit := t.cache[key]
	t.mu.RUnlock()
	if hit {
		return m, m != nil
	}
	m, ok := t.lookup(providerName, models)
	// Model IDs come from clients; stop caching at a bound so random IDs cannot grow memory.
	t.mu.Lock()
	if len(t.cache) < maxCacheEntries {
		t.cache[key] = m
	}
	t.mu.Unlock()
	return m, ok
}

const maxCacheEntries = 4096

// cacheKey is comparable without allocating: Lookup is called for every LLM span.
type cacheKey struct {
	provider string
	models   [2]string
	n        int
}

func (t *Table) lookup(providerName string, models []string) (*Model, bool) {
	hint := t.resolveProvider(providerName)
	for _, raw := range models {
		id := strings.ToLower(strings.TrimSpace(raw))
		if id == "" {
			continue
		}
		if m := t.lookupOne(hint, id); m != nil {
			return m, true
		}
	}
	return nil, false
}

func (t *Table) lookupOne(hint *provider, id string) *Model {
	if m := t.tryID(hint, id); m != nil {
		return m
	}
	if i := strings.LastIndexByte(id, '/'); i >= 0 && i < len(id)-1 {
		prefixHint := hint
		if p := t.resolveProvider(id[:strings.IndexByte(id, '/')]); p != nil {
			prefixHint = p
		}
		if m := t.tryID(prefixHint, id[i+1:]); m != nil {
			return m
		}
		id = id[i+1:]
	}
	if sub := bedrockID.FindStringSubmatch(id); sub != nil && bedrockVendors[sub[1]] {
		vendorHint := t.resolveProvider(sub[1])
		if vendorHint == nil {
			vendorHint = hint
		}
		if m := t.tryID(vendorHint, sub[2]); m != nil {
			return m
		}
		id = sub[2]
	}
	if base := dateSuffix.ReplaceAllString(id, ""); base != id && base != "" {
		return t.tryID(hint, base)
	}
	return nil
}

func (t *Table) tryID(hint *provider, id string) *Model {
	if m, ok := t.overrides[id]; ok {
		return m
	}
	if hint != nil {
		if m := t.matchIn(hint, id); m != nil {
			return m
		}
	}
	for _, p := range t.providers {
		if p != hint && p.modelMatch != nil && p.modelMatch.match(id) {
			if m := t.matchIn(p, id); m != nil {
				return m
			}
			break
		}
	}
	return nil
}

func (t *Table) matchIn(p *provider, id string) *Model {
	if m := t.matchModel(p, id, 0); m != nil {
		return m
	}
	if norm := compactDate.ReplaceAllString(id, "-$1-$2-$3$4"); norm != id {
		return t.matchModel(p, norm, 0)
	}
	return nil
}

func (t *Table) matchModel(p *provider, id string, depth int) *Model {
	for i, m := range p.matchers {
		if m.match(id) {
			return p.models[i]
		}
	}
	if depth > 0 {
		return nil
	}
	for _, fb := range p.fallbacks {
		if fp := t.byID[fb]; fp != nil {
			if m := t.matchModel(fp, id, depth+1); m != nil {
				return m
			}
		}
	}
	return nil
}

func (t *Table) resolveProvider(name string) *provider {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil
	}
	if alias, ok := providerAliases[name]; ok {
		name = alias
	}
	if p := t.byID[name]; p != nil {
		return p
	}
	// Vercel AI spells providers "openai.chat", "anthropic.messages", ...
	if i := strings.IndexByte(name, '.'); i > 0 {
		if p := t.resolveProvider(name[:i]); p != nil {
			return p
		}
	}
	for _, p := range t.providers {
		if p.providerMatch != nil && p.providerMatch.match(name) {
			return p
		}
	}
	return nil
}

// OverrideFile is the format of a user price file (YAML or JSON).
type OverrideFile struct {
	Models []OverridePrice `yaml:"models" json:"models"`
}

// OverridePrice prices one model ID, matched exactly and case-insensitively. Prices are US
// dollars per million tokens; an omitted cache price bills cached tokens as input.
type OverridePrice struct {
	Model          string   `yaml:"model" json:"model"`
	InputMTok      float64  `yaml:"input_mtok" json:"input_mtok"`
	OutputMTok     float64  `yaml:"output_mtok" json:"output_mtok"`
	CacheReadMTok  *float64 `yaml:"cache_read_mtok" json:"cache_read_mtok"`
	CacheWriteMTok *float64 `yaml:"cache_write_mtok" json:"cache_write_mtok"`
}

// WithOverrides returns a copy of t in which the given prices take precedence.
func (t *Table) WithOverrides(prices []OverridePrice) (*Table, error) {
	out := &Table{providers: t.providers, byID: t.byID, overrides: make(map[string]*Model, len(t.overrides)+len(prices)), mu: &sync.RWMutex{}, cache: make(map[cacheKey]*Model)}
	for k, v := range t.overrides {
		out.overrides[k] = v
	}
	for i, p := range prices {
		id := strings.ToLower(strings.TrimSpace(p.Model))
		if id == "" {
			return nil, fmt.Errorf("models[%d]: model is empty", i)
		}
		if p.InputMTok < 0 || p.OutputMTok < 0 || (p.CacheReadMTok != nil && *p.CacheReadMTok < 0) || (p.CacheWriteMTok != nil && *p.CacheWriteMTok < 0) {
			return nil, fmt.Errorf("models[%d] (%s): prices must not be negative", i, p.Model)
		}
		tp := tokenPrices{
			input:  tieredPrice{set: true, base: p.InputMTok},
			output: tieredPrice{set: true, base: p.OutputMTok},
		}
		if p.CacheReadMTok != nil {
			tp.cacheRead = tieredPrice{set: true, base: *p.CacheReadMTok}
		}
		if p.CacheWriteMTok != nil {
			tp.cacheWrite = tieredPrice{set: true, base: *p.CacheWriteMTok}
		}
		out.overrides[id] = &Model{Provider: "override", ID: p.Model, prices: []conditionalPrice{{tokenPrice: tp}}}
	}
	return out, nil
}

// LoadOverrideFile reads a price file (YAML or JSON) in the OverrideFile format.
func LoadOverrideFile(path string) ([]OverridePrice, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read price file: %w", err)
	}
	var f OverrideFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse price file %s: %w", path, err)
	}
	return f.Models, nil
}
