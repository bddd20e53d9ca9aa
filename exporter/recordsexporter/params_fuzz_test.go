package recordsexporter

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// FuzzParseQuery feeds arbitrary query strings to the records query parser: it must never
// panic, and every refusal must name a parameter (a *paramError), as the API promises.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=10", "q=%22exact+phrase%22", "status=error&from=2026-11-01T00:00:00Z&to=2026-11-25T00:00:00Z",
		"metric=helpfulness>0.5", "metric=correct=pass", "meta.env=prod&meta.tenant=a", "sort=-cost&cursor=abc",
		"min_cost=0.01&min_duration_ms=100", "flag=off_topic&model=gpt-4o&user_id=u&session_id=s", "limit=-1", "from=yesterday",
		"metric=%3E%3E%3E", "sort=nonsense", "meta.=x", "trace_id=zz",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, err = parseQuery(v, now)
		var pe *paramError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("parseQuery(%q) refused without naming a parameter: %v", raw, err)
		}
	})
}
