// Package pricing turns a model ID and token usage into a price in US dollars.
//
// The built-in table is a dated snapshot of the MIT-licensed @pydantic/genai-prices data
// (data/prices.json, refreshed by `go generate`); a user file can add or override prices.
// A model that matches no rule has no price: callers must report it as unknown rather than
// guess, so lookups never fall back to a "close" model ID.
package pricing

//go:generate sh -c "cd gen && npm ci --no-audit --no-fund && node refresh.mjs && node agreement.mjs"

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

//go:embed data/prices.json
var builtinJSON []byte

// Usage is the token usage of one call. Input counts every input token including
// CacheRead and CacheWrite (the OpenTelemetry convention); when Input is smaller than
// CacheRead+CacheWrite it is taken to exclude them (the Anthropic API convention).
type Usage struct {
	Input      int64
	Output     int64
	CacheRead  int64
	CacheWrite int64
}

// Table is an immutable price table; it is safe for concurrent use.
type Table struct {
	providers []*provider
	byID      map[string]*provider
	overrides map[string]*Model
	// cache memoizes Lookup results (nil *Model for unknown), bounded by maxCacheEntries.
	mu    *sync.RWMutex
	cache map[cacheKey]*Model
}

// Model is a priced model.
type Model struct {
	// Provider and ID name the table entry that matched, for logs and tests.
	Provider string
	ID       string
	prices   []conditionalPrice
}

type provider struct {
	id            string
	providerMatch *matcher
	modelMatch    *matcher
	fallbacks     []string
	models        []*Model
	matchers      []*matcher
}

type conditionalPrice struct {
	startDate time.Time
	// Seconds since midnight UTC; window is [start, end), wrapping past midnight when end < start.
	timeOfDay  bool
	startSec   int
	endSec     int
	hasConstr  bool
	tokenPrice tokenPrices
}

type tokenPrices struct {
	input, output, cacheRead, cacheWrite tieredPrice
	// perKRequests is a flat fee per thousand calls (e.g. Perplexity search models).
	perKRequests tieredPrice
}

// tieredPrice is a price per million tokens; tiers switch the whole price once the call's
// total input tokens exceed a threshold (long-context pricing).
type tieredPrice struct {
	set   bool
	base  float64
	tiers []tier
}

type tier struct {
	start int64
	price float64
}

var (
	builtinOnce  sync.Once
	builtinTable *Table
	builtinErr   error
)

// Builtin returns the table parsed from the embedded genai-prices snapshot.
func Builtin() (*Table, error) {
	builtinOnce.Do(func() {
		builtinTable, builtinErr = parseSnapshot(builtinJSON)
		if builtinErr != nil {
			builtinErr = fmt.Errorf("pricing: parse embedded data/prices.json: %w", builtinErr)
		}
	})
	return builtinTable, builtinErr
}

type snapshotJSON struct {
	Source    string         `json:"source"`
	Generated string         `json:"generated"`
	Providers []providerJSON `json:"providers"`
}

type providerJSON struct {
	ID             string          `json:"id"`
	ProviderMatch  json.RawMessage `json:"provider_match"`
	ModelMatch     json.RawMessage `json:"model_match"`
	FallbackModels []string        `json:"fallback_model_providers"`
	Models         []modelJSON     `json:"models"`
}

type modelJSON struct {
	ID     string          `json:"id"`
	Match  json.RawMessage `json:"match"`
	Prices []struct {
		Constraint *struct {
			Type      string `json:"type"`
			StartDate string `json:"start_date"`
			StartTime string `json:"start_time"`
			EndTime   string `json:"end_time"`
		} `json:"constraint"`
		Prices map[string]json.RawMessage `json:"prices"`
	} `json:"prices"`
}

func parseSnapshot(data []byte) (*Table, error) {
	var snap snapshotJSON
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, err
	}
	t := &Table{byID: make(map[string]*provider, len(snap.Providers)), mu: &sync.RWMutex{}, cache: make(map[cacheKey]*Model)}
	for _, pj := range snap.Providers {
		p := &provider{id: pj.ID, fallbacks: pj.FallbackModels}
		var err error
		if p.providerMatch, err = parseMatcher(pj.ProviderMatch); err != nil {
			return nil, fmt.Errorf("provider %q provider_match: %w", pj.ID, err)
		}
		if p.modelMatch, err = parseMatcher(pj.ModelMatch); err != nil {
			return nil, fmt.Errorf("provider %q model_match: %w", pj.ID, err)
		}
		for _, mj := range pj.Models {
			m, err := parseMatcher(mj.Match)
			if err != nil {
				return nil, fmt.Errorf("provider %q model %q match: %w", pj.ID, mj.ID, err)
			}
			if m == nil {
				continue
			}
			model := &Model{Provider: pj.ID, ID: mj.ID}
			for _, cp := range mj.Prices {
				c, err := parseConditional(cp.Prices)
				if err != nil {
					return nil, fmt.Errorf("provider %q model %q prices: %w", pj.ID, mj.ID, err)
				}
				if cp.Constraint != nil {
					c.hasConstr = true
					switch cp.Constraint.Type {
					case "time_of_date":
						c.timeOfDay = true
						if c.startSec, err = parseClock(cp.Constraint.StartTime); err == nil {
							c.endSec, err = parseClock(cp.Constraint.EndTime)
						}
					default:
						c.startDate, err = time.Parse(time.DateOnly, cp.Constraint.StartDate)
					}
					if err != nil {
						return nil, fmt.Errorf("provider %q model %q constraint: %w", pj.ID, mj.ID, err)
					}
				}
				model.prices = append(model.prices, c)
			}
			if len(model.prices) == 0 {
				continue
			}
			p.models = append(p.models, model)
			p.matchers = append(p.matchers, m)
		}
		t.providers = append(t.providers, p)
		t.byID[p.id] = p
	}
	return t, nil
}

func parseClock(s string) (int, error) {
	var h, m, sec int
	n, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec)
	if n < 2 {
		return 0, fmt.Errorf("invalid time of day %q: %w", s, err)
	}
	return h*3600 + m*60 + sec, nil
}

func parseConditional(raw map[string]json.RawMessage) (conditionalPrice, error) {
	var c conditionalPrice
	for key, dst := range map[string]*tieredPrice{
		"input_mtok":       &c.tokenPrice.input,
		"output_mtok":      &c.tokenPrice.output,
		"cache_read_mtok":  &c.tokenPrice.cacheRead,
		"cache_write_mtok": &c.tokenPrice.cacheWrite,
		"requests_kcount":  &c.tokenPrice.perKRequests,
	} {
		v, ok := raw[key]
		if !ok {
			continue
		}
		var num float64
		if err := json.Unmarshal(v, &num); err == nil {
			*dst = tieredPrice{set: true, base: num}
			continue
		}
		var tp struct {
			Base  float64 `json:"base"`
			Tiers []struct {
				Start int64   `json:"start"`
				Price float64 `json:"price"`
			} `json:"tiers"`
		}
		if err := json.Unmarshal(v, &tp); err != nil {
			return c, fmt.Errorf("%s: %w", key, err)
		}
		*dst = tieredPrice{set: true, base: tp.Base}
		for _, ti := range tp.Tiers {
			dst.tiers = append(dst.tiers, tier{start: ti.Start, price: ti.Price})
		}
	}
	return c, nil
}

// matcher is the genai-prices match logic: equals / starts_with / ends_with / contains
// (case-insensitive), regex (against the lower-cased ID), and / or.
type matcher struct {
	op    string
	value string
	re    *regexp.Regexp
	// notRe rejects what a leading JavaScript negative look-ahead `^(?!X)` rejects; RE2
	// has no look-ahead, so `^(?!X)Y` is evaluated as "not ^X, and ^Y".
	notRe *regexp.Regexp
	kids  []*matcher
}

// splitLookahead splits `^(?!X)Y` into X and Y, honouring nested groups, escapes and
// character classes. ok is false when the pattern does not start with a look-ahead.
func splitLookahead(s string) (x, y string, ok bool) {
	const head = "^(?!"
	if !strings.HasPrefix(s, head) {
		return "", "", false
	}
	depth, inClass := 1, false
	for i := len(head); i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return s[len(head):i], s[i+1:], true
			}
		}
	}
	return "", "", false
}

func parseMatcher(raw json.RawMessage) (*matcher, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	for op, v := range obj {
		switch op {
		case "and", "or":
			var kids []json.RawMessage
			if err := json.Unmarshal(v, &kids); err != nil {
				return nil, err
			}
			m := &matcher{op: op}
			for _, k := range kids {
				km, err := parseMatcher(k)
				if err != nil {
					return nil, err
				}
				if km != nil {
					m.kids = append(m.kids, km)
				}
			}
			return m, nil
		case "equals", "starts_with", "ends_with", "contains":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			return &matcher{op: op, value: strings.ToLower(s)}, nil
		case "regex":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			m := &matcher{op: op}
			pattern := s
			if x, y, ok := splitLookahead(s); ok {
				notRe, err := regexp.Compile("^(?:" + x + ")")
				if err != nil {
					return nil, fmt.Errorf("regex %q: %w", s, err)
				}
				m.notRe = notRe
				pattern = "^(?:" + y + ")"
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				return nil, fmt.Errorf("regex %q: %w", s, err)
			}
			m.re = re
			return m, nil
		default:
			return nil, fmt.Errorf("unknown match operator %q", op)
		}
	}
	return nil, nil
}

// match reports whether the lower-cased id s matches.
func (m *matcher) match(s string) bool {
	switch m.op {
	case "equals":
		return s == m.value
	case "starts_with":
		return strings.HasPrefix(s, m.value)
	case "ends_with":
		return strings.HasSuffix(s, m.value)
	case "contains":
		return strings.Contains(s, m.value)
	case "regex":
		return (m.notRe == nil || !m.notRe.MatchString(s)) && m.re.MatchString(s)
	case "and":
		for _, k := range m.kids {
			if !k.match(s) {
				return false
			}
		}
		return len(m.kids) > 0
	case "or":
		for _, k := range m.kids {
			if k.match(s) {
				return true
			}
		}
	}
	return false
}

// Cost prices one call with usage u at time at (which selects among dated or time-of-day
// prices), including any per-request fee.
func (m *Model) Cost(u Usage, at time.Time) float64 {
	p := m.priceAt(at)
	in, cr, cw := u.Input, max(u.CacheRead, 0), max(u.CacheWrite, 0)
	uncached := in - cr - cw
	totalIn := in
	if uncached < 0 {
		uncached = in
		totalIn = in + cr + cw
	}
	uncached = max(uncached, 0)
	// Without a dedicated cache price, cached tokens are billed as ordinary input.
	if !p.cacheRead.set {
		uncached += cr
		cr = 0
	}
	if !p.cacheWrite.set {
		uncached += cw
		cw = 0
	}
	return (p.input.at(totalIn)*float64(uncached)+
		p.cacheRead.at(totalIn)*float64(cr)+
		p.cacheWrite.at(totalIn)*float64(cw)+
		p.output.at(totalIn)*float64(max(u.Output, 0)))/1e6 +
		p.perKRequests.at(totalIn)/1e3
}

func (t tieredPrice) at(totalInput int64) float64 {
	price := t.base
	for _, ti := range t.tiers {
		if totalInput > ti.start {
			price = ti.price
		}
	}
	return price
}

func (m *Model) priceAt(at time.Time) tokenPrices {
	at = at.UTC()
	for i := len(m.prices) - 1; i >= 0; i-- {
		c := m.prices[i]
		if !c.hasConstr {
			return c.tokenPrice
		}
		if c.timeOfDay {
			sec := at.Hour()*3600 + at.Minute()*60 + at.Second()
			if c.endSec < c.startSec {
				if sec >= c.startSec || sec < c.endSec {
					return c.tokenPrice
				}
			} else if sec >= c.startSec && sec < c.endSec {
				return c.tokenPrice
			}
			continue
		}
		if !at.Before(c.startDate) {
			return c.tokenPrice
		}
	}
	return m.prices[0].tokenPrice
}
