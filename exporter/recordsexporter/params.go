package recordsexporter

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracehound/tracehound/internal/store"
)

// paramError is a bad query parameter; the API answers 400 invalid_parameter with it.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string { return e.param + ": " + e.msg }

func badParam(param, format string, args ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, args...)}
}

// filterParams are the record filter parameters of the contract, shared by list, export,
// test-case selections and saved views.
var filterParams = []string{"q", "status", "source", "trace_id", "run_id", "testcase_id", "service", "model",
	"user_id", "session_id", "flag", "metric", "meta.<key>", "from", "to", "min_cost", "min_duration_ms"}

// parseQuery reads filters, sort, limit and cursor. extra names further parameters the
// caller handles itself; anything else is an unknown parameter.
func parseQuery(v url.Values, now time.Time, extra ...string) (store.Query, error) {
	q := store.Query{Sort: store.Sort{Field: store.SortTime}}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad parameter reported is the same on every call
	for _, key := range keys {
		vals := v[key]
		val := vals[len(vals)-1]
		f := &q.Filter
		var err error
		switch key {
		case "q":
			f.Text = val
		case "status":
			switch val {
			case store.StatusOK, store.StatusError, store.StatusFlagged:
				f.Status = val
			default:
				err = badParam(key, "want ok, error or flagged, got %q", val)
			}
		case "source":
			f.Source = val
		case "trace_id":
			f.TraceID = strings.ToLower(val)
		case "run_id":
			f.RunID = val
		case "testcase_id":
			f.TestcaseID = val
		case "service":
			f.Service = val
		case "model":
			f.Model = val
		case "user_id":
			f.UserID = val
		case "session_id":
			f.SessionID = val
		case "flag":
			f.Flag = val
		case "metric":
			for _, m := range vals {
				c, perr := parseMetric(m)
				if perr != nil {
					return q, perr
				}
				f.Metrics = append(f.Metrics, c)
			}
		case "from":
			f.From, err = parseTime(key, val, now)
		case "to":
			f.To, err = parseTime(key, val, now)
		case "min_cost":
			f.MinCost, err = parseNonNegative(key, val)
		case "min_duration_ms":
			f.MinDurationMS, err = parseNonNegative(key, val)
		case "sort":
			if q.Sort, err = store.ParseSort(val); err != nil {
				err = badParam(key, "%v", err)
			}
		case "limit":
			n, perr := strconv.Atoi(val)
			if perr != nil || n < 1 || n > store.MaxLimit {
				err = badParam(key, "want an integer from 1 to %d, got %q", store.MaxLimit, val)
			}
			q.Limit = n
		case "cursor":
			q.Cursor = val
		default:
			if mk, ok := strings.CutPrefix(key, "meta."); ok && mk != "" {
				if f.Meta == nil {
					f.Meta = map[string]string{}
				}
				f.Meta[mk] = val
				continue
			}
			if !contains(extra, key) {
				err = badParam(key, "unknown query parameter (supported: %s, sort, limit, cursor%s)",
					strings.Join(filterParams, ", "), prefixed(extra))
			}
		}
		if err != nil {
			return q, err
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, badParam("from", "must be before to (%s is not before %s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	return q, nil
}

func prefixed(extra []string) string {
	if len(extra) == 0 {
		return ""
	}
	return ", " + strings.Join(extra, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseTime reads an RFC 3339 time, "now", or a duration relative to now ("-24h",
// "now-24h"), so that saved views can say "the last day".
func parseTime(param, s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	rel := strings.TrimPrefix(s, "now")
	if rel == "" && s == "now" {
		return now.UTC(), nil
	}
	if d, err := time.ParseDuration(rel); err == nil && (strings.HasPrefix(rel, "-") || strings.HasPrefix(rel, "+")) {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, badParam(param, "want an RFC 3339 time (2026-11-25T12:00:00Z), now, or an offset from now such as -24h, got %q", s)
}

func parseNonNegative(param, s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != f {
		return 0, badParam(param, "want a non-negative number, got %q", s)
	}
	return f, nil
}

// parseMetric reads name>0.5, name>=0.5, name<0.5, name<=0.5, name=0.5, name!=0.5,
// name=pass or name=fail.
func parseMetric(s string) (store.MetricCond, error) {
	i := strings.IndexAny(s, "<>=!")
	if i <= 0 {
		return store.MetricCond{}, badParam("metric", "want name>0.5, name>=0.5, name<0.5, name<=0.5, name=0.5, name!=0.5, name=pass or name=fail, got %q", s)
	}
	name, rest := s[:i], s[i:]
	op := rest[:1]
	if len(rest) > 1 && rest[1] == '=' && op != "=" {
		op = rest[:2]
	}
	if op == "!" {
		return store.MetricCond{}, badParam("metric", "unknown operator in %q (use >, >=, <, <=, =, !=)", s)
	}
	val := rest[len(op):]
	c := store.MetricCond{Name: name, Op: op}
	if op == "=" {
		switch strings.ToLower(val) {
		case "pass", "passed", "true":
			b := true
			c.Pass = &b
			return c, nil
		case "fail", "failed", "false":
			b := false
			c.Pass = &b
			return c, nil
		}
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil || f != f {
		return store.MetricCond{}, badParam("metric", "want a number (or pass/fail with =) after %s in %q", op, s)
	}
	c.Value = f
	return c, nil
}
