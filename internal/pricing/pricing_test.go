package pricing

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Expected totals were computed with calcPrice from @pydantic/genai-prices 0.1.8 (the
// version the snapshot was taken from), so these cases check that the Go lookup agrees
// with the reference implementation on the same data.
func TestLookup_AgreesWithGenaiPrices(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		provider  string
		model     string
		usage     Usage
		wantModel string
		wantUSD   float64
	}{
		{"exact id", "openai", "gpt-4o-mini", Usage{Input: 1000, Output: 500}, "openai/gpt-4o-mini", 0.00045},
		{"dated snapshot listed in data, cache read discounted", "openai", "gpt-4o-mini-2024-07-18", Usage{Input: 1000, Output: 500, CacheRead: 200}, "openai/gpt-4o-mini", 0.000435},
		{"snapshot with its own price beats family", "openai", "gpt-4o-2024-05-13", Usage{Input: 1000, Output: 500}, "openai/gpt-4o-2024-05-13", 0.0125},
		{"compact date and cache write", "anthropic", "claude-3-5-sonnet-20241022", Usage{Input: 1000, Output: 500, CacheRead: 100, CacheWrite: 50}, "anthropic/claude-3-5-sonnet", 0.0102675},
		{"long-context tier", "anthropic", "claude-sonnet-4-5-20250929", Usage{Input: 300000, Output: 1000}, "anthropic/claude-sonnet-4-5", 1.8225},
		{"embedding model", "openai", "text-embedding-3-small", Usage{Input: 1000}, "openai/text-embedding-3-small", 0.00002},
		{"semconv provider name alias", "gcp.gemini", "gemini-2.5-flash", Usage{Input: 1000, Output: 100}, "google/gemini-2.5-flash", 0.00055},
		{"negative look-ahead rule", "google", "gemini-2.5-pro", Usage{Input: 1000, Output: 100}, "google/gemini-2.5-pro", 0.00225},
		{"negative look-ahead excludes tts", "google", "gemini-2.5-pro-preview-tts", Usage{Input: 1000, Output: 100}, "google/gemini-2.5-pro-tts", 0.003},
		{"bedrock regional id", "aws.bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", Usage{Input: 1000, Output: 100}, "aws/regional.anthropic.claude-3-5-sonnet-20241022-v2:0", 0.0045},
		{"vercel provider spelling", "openai.chat", "gpt-4o-mini", Usage{Input: 1000, Output: 500}, "openai/gpt-4o-mini", 0.00045},
		{"no provider: detected from model", "", "claude-haiku-4-5", Usage{Input: 1000, Output: 100}, "anthropic/claude-haiku-4-5", 0.0015},
		{"vendor prefix", "", "openai/gpt-4o-mini", Usage{Input: 1000, Output: 500}, "openai/gpt-4o-mini", 0.00045},
		{"bedrock id without provider", "", "anthropic.claude-haiku-4-5-20251001-v1:0", Usage{Input: 1000, Output: 100}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := tbl.Lookup(tt.provider, tt.model)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no price", tt.provider, tt.model)
			}
			if tt.wantModel != "" {
				if got := m.Provider + "/" + m.ID; got != tt.wantModel {
					t.Errorf("matched %s, want %s", got, tt.wantModel)
				}
				if got := m.Cost(tt.usage, at); math.Abs(got-tt.wantUSD) > 1e-12 {
					t.Errorf("cost %.10f, want %.10f", got, tt.wantUSD)
				}
			}
		})
	}
}

func TestLookup_UnknownModelsAreNotPricedAsCousins(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ provider, model string }{
		{"openai", "gpt-4o-foo-unknown"},
		{"", "gpt-4o-foo-unknown"},
		{"openai", "gpt-4o-mini-but-not-really"},
		{"anthropic", "claude-unknown-9"},
		{"openai", "gpt-4o-minix"},
		{"openai", "my-company-deployment"},
		{"", "totally-unknown-model"},
		{"", ""},
		{"openai", "gpt-4o-mini-2099-99-99x"},
	} {
		if m, ok := tbl.Lookup(tc.provider, tc.model); ok {
			t.Errorf("Lookup(%q, %q) priced as %s/%s; want unknown", tc.provider, tc.model, m.Provider, m.ID)
		}
	}
}

func TestCost_ExclusiveInputCountsLikeInclusive(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tbl.Lookup("anthropic", "claude-3-5-sonnet-20241022")
	if !ok {
		t.Fatal("no price")
	}
	// Anthropic reports input_tokens without cached tokens; OTel includes them.
	inclusive := m.Cost(Usage{Input: 1000, Output: 10, CacheRead: 600, CacheWrite: 300}, at)
	exclusive := m.Cost(Usage{Input: 100, Output: 10, CacheRead: 600, CacheWrite: 300}, at)
	if math.Abs(inclusive-exclusive) > 1e-12 || inclusive <= 0 {
		t.Fatalf("inclusive %v != exclusive %v", inclusive, exclusive)
	}
}

// The data's own rules are honoured as written: claude-3-5-sonnet is a starts_with rule
// upstream (to cover its dated and -latest IDs), so its variants share its price.
func TestLookup_DataPrefixRulesAreHonoured(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := tbl.Lookup("anthropic", "claude-3-5-sonnet-latest"); !ok || m.ID != "claude-3-5-sonnet" {
		t.Fatalf("got %+v, %v", m, ok)
	}
}

func TestLookup_FirstKnownModelWins(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// Azure: the request "model" is a deployment name, the response model is real.
	m, ok := tbl.Lookup("azure.ai.openai", "gpt-4o-mini-2024-07-18", "my-gpt-deployment")
	if !ok || m.ID != "gpt-4o-mini" {
		t.Fatalf("got %+v, %v; want gpt-4o-mini", m, ok)
	}
	m, ok = tbl.Lookup("openai", "unknown-response-model", "gpt-4o-mini")
	if !ok || m.ID != "gpt-4o-mini" {
		t.Fatalf("got %+v, %v; want fallback to request model gpt-4o-mini", m, ok)
	}
}

func TestLookup_DateSuffixFallsBackToExactBase(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tbl.Lookup("openai", "gpt-4o-mini-2031-01-01")
	if !ok || m.ID != "gpt-4o-mini" {
		t.Fatalf("got %+v, %v; want gpt-4o-mini", m, ok)
	}
}

func TestOverrides_AddAndReplacePrices(t *testing.T) {
	base, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(path, []byte(`models:
  - model: My-FineTune
    input_mtok: 1
    output_mtok: 2
    cache_read_mtok: 0.5
  - model: gpt-4o-mini
    input_mtok: 10
    output_mtok: 20
`), 0o600); err != nil {
		t.Fatal(err)
	}
	prices, err := LoadOverrideFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := base.WithOverrides(prices)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tbl.Lookup("", "my-finetune")
	if !ok {
		t.Fatal("override not found")
	}
	if got := m.Cost(Usage{Input: 1_000_000, Output: 1_000_000, CacheRead: 500_000}, at); math.Abs(got-(0.5+0.25+2)) > 1e-9 {
		t.Errorf("override cost = %v, want 2.75", got)
	}
	m, _ = tbl.Lookup("openai", "gpt-4o-mini")
	if got := m.Cost(Usage{Input: 1_000_000}, at); got != 10 {
		t.Errorf("replaced price = %v, want 10", got)
	}
	if m, _ := base.Lookup("openai", "gpt-4o-mini"); m.Cost(Usage{Input: 1_000_000}, at) != 0.15 {
		t.Error("overrides leaked into the built-in table")
	}
	// A dated variant of an overridden ID reaches the override through the date fallback.
	if m, ok := tbl.Lookup("", "my-finetune-20250101"); !ok || m.Provider != "override" {
		t.Errorf("dated override lookup = %+v, %v", m, ok)
	}
}

func TestOverrides_RejectBadEntries(t *testing.T) {
	base, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	neg := -1.0
	for name, p := range map[string]OverridePrice{
		"empty model":    {InputMTok: 1},
		"negative price": {Model: "x", InputMTok: -1},
		"negative cache": {Model: "x", CacheReadMTok: &neg},
	} {
		if _, err := base.WithOverrides([]OverridePrice{p}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("models:\n  - model: x\n    inptu_mtok: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOverrideFile(path); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := LoadOverrideFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestPriceAt_DatedAndTimeOfDayConstraints(t *testing.T) {
	m := &Model{prices: []conditionalPrice{
		{tokenPrice: tokenPrices{input: tieredPrice{set: true, base: 1}}},
		{hasConstr: true, startDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), tokenPrice: tokenPrices{input: tieredPrice{set: true, base: 2}}},
		{hasConstr: true, timeOfDay: true, startSec: 22 * 3600, endSec: 6 * 3600, tokenPrice: tokenPrices{input: tieredPrice{set: true, base: 3}}},
	}}
	for _, tc := range []struct {
		at   time.Time
		want float64
	}{
		{time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), 1},
		{time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), 2},
		{time.Date(2026, 6, 1, 23, 0, 0, 0, time.UTC), 3},
		{time.Date(2026, 6, 1, 5, 59, 0, 0, time.UTC), 3},
	} {
		if got := m.Cost(Usage{Input: 1_000_000}, tc.at); got != tc.want {
			t.Errorf("at %v: %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestBuiltin_EveryRegexCompiles(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range tbl.providers {
		n += len(p.models)
	}
	if len(tbl.providers) < 20 || n < 1000 {
		t.Fatalf("snapshot too small: %d providers, %d models", len(tbl.providers), n)
	}
}

// TestLookup_AgreesWithReferenceOnEveryListedID replays testdata/agreement.json, which
// gen/agreement.mjs produced by asking @pydantic/genai-prices itself to price every model
// ID its data lists by an exact rule, with and without the provider. Where the reference
// finds a price, the Go lookup must find the same entry and the same amount.
func TestLookup_AgreesWithReferenceOnEveryListedID(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "agreement.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		At    time.Time `json:"at"`
		Cases []struct {
			Provider string  `json:"provider"`
			Model    string  `json:"model"`
			Match    string  `json:"match"`
			USD      float64 `json:"usd"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	u := Usage{Input: 1000, Output: 500, CacheRead: 100}
	checked, mismatches := 0, 0
	for _, c := range ref.Cases {
		if c.Match == "" {
			continue
		}
		checked++
		m, ok := tbl.Lookup(c.Provider, c.Model)
		got := ""
		if ok {
			got = m.Provider + "/" + m.ID
		}
		if got != c.Match {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("Lookup(%q, %q) = %q, reference %q", c.Provider, c.Model, got, c.Match)
			}
			continue
		}
		if cost := m.Cost(u, ref.At); math.Abs(cost-c.USD) > 1e-9*math.Max(1, c.USD) {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("%s: cost %.12f, reference %.12f", c.Match, cost, c.USD)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d reference cases checked", checked)
	}
	t.Logf("%d reference cases checked, %d mismatches", checked, mismatches)
}

func TestLookup_CachedResultsMatchAndStayBounded(t *testing.T) {
	tbl, err := parseSnapshot(builtinJSON)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if m, ok := tbl.Lookup("openai", "gpt-4o-mini"); !ok || m.ID != "gpt-4o-mini" {
			t.Fatalf("pass %d: got %+v, %v", i, m, ok)
		}
		if _, ok := tbl.Lookup("openai", "gpt-4o-foo-unknown"); ok {
			t.Fatalf("pass %d: unknown model priced", i)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < maxCacheEntries; i++ {
				tbl.Lookup("", fmt.Sprintf("random-%d-%d", g, i))
			}
		}(g)
	}
	wg.Wait()
	tbl.mu.RLock()
	n := len(tbl.cache)
	tbl.mu.RUnlock()
	if n > maxCacheEntries {
		t.Fatalf("cache grew to %d entries", n)
	}
	if m, ok := tbl.Lookup("openai", "gpt-4o"); !ok || m.ID != "gpt-4o" {
		t.Fatalf("lookup after cache filled: %+v, %v", m, ok)
	}
}

func TestLookup_ProviderSpellingsAndIDForms(t *testing.T) {
	tbl, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ provider, model, want string }{
		{"gcp.vertex_ai", "claude-3-5-sonnet@20240620", "google/claude-3-5-sonnet"},
		{"gcp.gemini", "models/gemini-2.5-flash", "google/gemini-2.5-flash"},
		{"azure.ai.openai", "gpt-4o", "openai/gpt-4o"},
		{"aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "aws/regional.anthropic.claude-3-haiku-20240307-v1:0"},
		{"mistral_ai", "mistral-large-latest", "mistral/mistral-large"},
		{"", "o3-mini", "openai/o3-mini"},
		{"", "gpt-4.1", "openai/gpt-4.1"},
		{"groq", "llama-3.1-8b-instant", "groq/llama-3.1-8b-instant"},
		{"", "meta-llama/llama-3.1-8b-instruct", ""}, // no provider, no vendor rule: unknown
	} {
		m, ok := tbl.Lookup(tc.provider, tc.model)
		got := ""
		if ok {
			got = m.Provider + "/" + m.ID
		}
		if got != tc.want {
			t.Errorf("Lookup(%q, %q) = %q, want %q", tc.provider, tc.model, got, tc.want)
		}
	}
}
