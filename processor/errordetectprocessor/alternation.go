package errordetectprocessor

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"sync/atomic"
)

// alternationSet matches like one alternation of its sources, `(?:a)|(?:b)|...`, but for a
// given text compiles only the alternatives that can match it: those of which the text
// contains a literal every match must contain. An alternative that cannot match anywhere in
// the text changes no match, its position or its choice, so the smaller alternation finds
// exactly what the whole one would, with a fraction of the work per byte.
type alternationSet struct {
	sources []string
	// required[i] lists literals one of which is in every match of sources[i]; nil when
	// none is known, and then the alternative is always kept.
	required [][]string
	full     *regexp.Regexp

	// cache holds the compiled subsets by their bit set (uint64 → *regexp.Regexp); reads
	// take no lock, as every evaluating goroutine asks for one per text.
	cache  sync.Map
	cached atomic.Int64
}

// maxCachedAlternations bounds the compiled subsets kept; past it, texts use the full one.
const maxCachedAlternations = 512

func compileAlternation(sources []string) *regexp.Regexp {
	return regexp.MustCompile(`(?:` + strings.Join(sources, `)|(?:`) + `)`)
}

func newAlternationSet(sources []string) *alternationSet {
	if len(sources) > 64 {
		panic("alternationSet: more than 64 sources")
	}
	a := &alternationSet{sources: sources, full: compileAlternation(sources)}
	for _, src := range sources {
		re, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			panic(err)
		}
		a.required = append(a.required, requiredLiterals(re.Simplify()))
	}
	return a
}

// forText returns a regexp that finds in text exactly what the full alternation finds.
func (a *alternationSet) forText(text string) *regexp.Regexp {
	var keep uint64
	for i, lits := range a.required {
		if lits == nil || containsAny(text, lits) {
			keep |= 1 << i
		}
	}
	if keep == 1<<len(a.sources)-1 {
		return a.full
	}
	if re, ok := a.cache.Load(keep); ok {
		return re.(*regexp.Regexp)
	}
	if a.cached.Load() >= maxCachedAlternations {
		return a.full
	}
	var kept []string
	for i, src := range a.sources {
		if keep&(1<<i) != 0 {
			kept = append(kept, src)
		}
	}
	// With no alternative left, an empty character class never matches.
	re := regexp.MustCompile(`[^\x00-\x{10FFFF}]`)
	if len(kept) > 0 {
		re = compileAlternation(kept)
	}
	// Two goroutines may compile the same subset; the first one stored is used by both.
	if prev, loaded := a.cache.LoadOrStore(keep, re); loaded {
		return prev.(*regexp.Regexp)
	}
	a.cached.Add(1)
	return re
}

// requiredLiterals returns literals one of which occurs in every match of re, or nil when
// it finds none.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return requiredLiterals(re.Sub[0])
	case syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any child's literals will do; the one whose shortest literal is longest is the
		// most selective.
		var best []string
		for _, sub := range re.Sub {
			if lits := requiredLiterals(sub); lits != nil && (best == nil || shortest(lits) > shortest(best)) {
				best = lits
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := requiredLiterals(sub)
			if lits == nil {
				return nil
			}
			all = append(all, lits...)
		}
		return all
	}
	return nil
}

func shortest(lits []string) int {
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// gatedRegexp is a regexp that is only run on texts containing one of the literals every
// match of it contains; on other texts it cannot match.
type gatedRegexp struct {
	*regexp.Regexp
	required []string
}

func newGatedRegexp(src string) gatedRegexp {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return gatedRegexp{Regexp: regexp.MustCompile(src), required: requiredLiterals(re.Simplify())}
}

func (g gatedRegexp) FindStringIndex(s string) []int {
	if g.required != nil && !containsAny(s, g.required) {
		return nil
	}
	return g.Regexp.FindStringIndex(s)
}
