package store

import (
	"math"
	"sort"
	"time"
)

// Hist is a log-bucketed latency histogram in milliseconds. Buckets grow by histGamma, so
// a percentile read from it is within ±2% of the exact value. Counts can be subtracted,
// which lets a run aggregate follow a record as late spans re-fold it.
type Hist map[int32]int64

const (
	histGamma = 1.04
	histMinMS = 0.001
)

var logGamma = math.Log(histGamma)

func histBucket(ms float64) int32 {
	if ms <= histMinMS {
		return 0
	}
	return int32(math.Ceil(math.Log(ms/histMinMS) / logGamma))
}

func histValue(b int32) float64 {
	if b == 0 {
		return 0
	}
	return histMinMS * math.Pow(histGamma, float64(b)-0.5)
}

// Add counts a value n times (n may be negative to remove it).
func (h Hist) Add(ms float64, n int64) {
	b := histBucket(ms)
	if h[b] += n; h[b] == 0 {
		delete(h, b)
	}
}

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Percentiles reads p50, p95 and p99.
func (h Hist) Percentiles() Percentiles {
	keys := make([]int32, 0, len(h))
	var total int64
	for k, n := range h {
		if n > 0 {
			keys = append(keys, k)
			total += n
		}
	}
	if total == 0 {
		return Percentiles{}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	q := func(p float64) float64 {
		rank := int64(math.Ceil(p * float64(total)))
		if rank < 1 {
			rank = 1
		}
		var cum int64
		for _, k := range keys {
			if cum += h[k]; cum >= rank {
				return round3(histValue(k))
			}
		}
		return round3(histValue(keys[len(keys)-1]))
	}
	return Percentiles{P50: q(0.50), P95: q(0.95), P99: q(0.99)}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// StatusCounts counts records by status.
type StatusCounts struct {
	OK      int64 `json:"ok"`
	Error   int64 `json:"error"`
	Flagged int64 `json:"flagged"`
}

func (c *StatusCounts) add(status string, n int64) {
	switch status {
	case StatusError:
		c.Error += n
	case StatusFlagged:
		c.Flagged += n
	default:
		c.OK += n
	}
}

func (u *Usage) addSigned(o Usage, n int64) {
	u.Input += n * o.Input
	u.Output += n * o.Output
	u.CacheRead += n * o.CacheRead
	u.CacheWrite += n * o.CacheWrite
	u.Total = u.Input + u.Output
}

// ScoreAgg accumulates one metric over a run.
type ScoreAgg struct {
	Count   int64   `json:"count"`
	Numeric int64   `json:"numeric"`
	Sum     float64 `json:"sum"`
	Passed  int64   `json:"passed"`
	Failed  int64   `json:"failed"`
}

// RunAgg is a run's aggregate as backends persist it: every part is a sum, so a record's
// contribution can be removed again when it is re-folded or deleted.
type RunAgg struct {
	ID           string               `json:"id"`
	RecordCount  int64                `json:"record_count"`
	StatusCounts StatusCounts         `json:"status_counts"`
	Usage        Usage                `json:"usage"`
	CostUSD      float64              `json:"cost_usd"`
	Latency      Hist                 `json:"latency"`
	Scores       map[string]*ScoreAgg `json:"scores"`
	// FirstSeen and LastSeen (Unix nanoseconds) only widen: they are the earliest start and
	// latest end of any record the run ever had.
	FirstSeen int64 `json:"first_seen"`
	LastSeen  int64 `json:"last_seen"`
}

// NewRunAgg starts an empty run aggregate.
func NewRunAgg(id string) *RunAgg {
	return &RunAgg{ID: id, Latency: Hist{}, Scores: map[string]*ScoreAgg{}}
}

// Apply adds (sign 1) or removes (sign -1) a record's contribution.
func (a *RunAgg) Apply(r *Record, sign int64) {
	if a.Latency == nil {
		a.Latency = Hist{}
	}
	if a.Scores == nil {
		a.Scores = map[string]*ScoreAgg{}
	}
	a.RecordCount += sign
	a.StatusCounts.add(r.Status, sign)
	a.Usage.addSigned(r.Usage, sign)
	a.CostUSD += float64(sign) * r.CostUSD
	if a.RecordCount == 0 {
		a.CostUSD = 0
	}
	a.Latency.Add(r.DurationMS, sign)
	for name, s := range r.Scores {
		sa := a.Scores[name]
		if sa == nil {
			sa = &ScoreAgg{}
			a.Scores[name] = sa
		}
		sa.Count += sign
		if v, ok := scoreNumber(s.Value); ok {
			sa.Numeric += sign
			sa.Sum += float64(sign) * v
		}
		if s.Passed != nil {
			if *s.Passed {
				sa.Passed += sign
			} else {
				sa.Failed += sign
			}
		}
		if sa.Count == 0 {
			delete(a.Scores, name)
		}
	}
	if sign > 0 {
		if a.FirstSeen == 0 || r.Assembly.StartNanos < a.FirstSeen {
			a.FirstSeen = r.Assembly.StartNanos
		}
		if r.Assembly.EndNanos > a.LastSeen {
			a.LastSeen = r.Assembly.EndNanos
		}
	}
}

// Run is a run as the API returns it.
type Run struct {
	ID           string                  `json:"id"`
	RecordCount  int64                   `json:"record_count"`
	StatusCounts StatusCounts            `json:"status_counts"`
	Usage        Usage                   `json:"usage"`
	CostUSD      float64                 `json:"cost_usd"`
	LatencyMS    Percentiles             `json:"latency_ms"`
	Scores       map[string]ScoreSummary `json:"scores"`
	FirstSeen    time.Time               `json:"first_seen"`
	LastSeen     time.Time               `json:"last_seen"`
}

// ScoreSummary is one metric over a run: how many records have it, the mean of numeric
// values (null when none is numeric) and the share that passed (null when none says).
type ScoreSummary struct {
	Count    int64    `json:"count"`
	Mean     *float64 `json:"mean"`
	PassRate *float64 `json:"pass_rate"`
	Passed   int64    `json:"passed"`
	Failed   int64    `json:"failed"`
}

// Run renders the aggregate.
func (a *RunAgg) Run() Run {
	run := Run{
		ID:           a.ID,
		RecordCount:  a.RecordCount,
		StatusCounts: a.StatusCounts,
		Usage:        a.Usage,
		CostUSD:      a.CostUSD,
		LatencyMS:    a.Latency.Percentiles(),
		Scores:       map[string]ScoreSummary{},
		FirstSeen:    time.Unix(0, a.FirstSeen).UTC(),
		LastSeen:     time.Unix(0, a.LastSeen).UTC(),
	}
	for name, s := range a.Scores {
		ss := ScoreSummary{Count: s.Count, Passed: s.Passed, Failed: s.Failed}
		if s.Numeric > 0 {
			m := s.Sum / float64(s.Numeric)
			ss.Mean = &m
		}
		if s.Passed+s.Failed > 0 {
			r := float64(s.Passed) / float64(s.Passed+s.Failed)
			ss.PassRate = &r
		}
		run.Scores[name] = ss
	}
	return run
}

// RunQuery selects a page of runs, most recently seen first.
type RunQuery struct {
	Limit  int
	Cursor string
}

// RunPage is one page of runs.
type RunPage struct {
	Runs       []Run
	NextCursor string
}

// Group-by dimensions of stats.
const (
	GroupService = "service"
	GroupUser    = "user"
	GroupModel   = "model"
	GroupRun     = "run"
	GroupSession = "session"
)

// StatsQuery asks for attribution of records started in [From, To), grouped by GroupBy
// (empty: one group for everything) and, when Bucket > 0, counted into time buckets.
type StatsQuery struct {
	GroupBy string
	From    time.Time
	To      time.Time
	Bucket  time.Duration
}

// StatsRow is one group or one time bucket.
type StatsRow struct {
	Key          *string      `json:"key,omitempty"`
	Start        *time.Time   `json:"start,omitempty"`
	RecordCount  int64        `json:"record_count"`
	StatusCounts StatusCounts `json:"status_counts"`
	ErrorCount   int64        `json:"error_count"`
	FlagCount    int64        `json:"flag_count"`
	Usage        Usage        `json:"usage"`
	CostUSD      float64      `json:"cost_usd"`
	LatencyMS    Percentiles  `json:"latency_ms"`
	lat          Hist
}

func (r *StatsRow) add(s *Summary) {
	r.RecordCount++
	r.StatusCounts.add(s.Status, 1)
	if s.Status == StatusError {
		r.ErrorCount++
	}
	r.FlagCount += int64(s.FlagCount)
	r.Usage.addSigned(s.Usage, 1)
	r.CostUSD += s.CostUSD
	r.lat.Add(s.DurationMS, 1)
}

// Stats is the answer to a StatsQuery. Groups are ordered by cost, then record count,
// descending; a record with several models counts in each model's group. Buckets are
// ordered by time and cover all groups.
type Stats struct {
	GroupBy string      `json:"group_by"`
	From    *time.Time  `json:"from"`
	To      *time.Time  `json:"to"`
	Bucket  string      `json:"bucket,omitempty"`
	Total   StatsRow    `json:"total"`
	Groups  []*StatsRow `json:"groups"`
	Buckets []*StatsRow `json:"buckets,omitempty"`
}

// StatsBuilder folds summaries into Stats; backends feed it every record in range.
type StatsBuilder struct {
	q       StatsQuery
	total   StatsRow
	groups  map[string]*StatsRow
	buckets map[int64]*StatsRow
}

// NewStatsBuilder starts an empty Stats.
func NewStatsBuilder(q StatsQuery) *StatsBuilder {
	return &StatsBuilder{q: q, total: StatsRow{lat: Hist{}}, groups: map[string]*StatsRow{}, buckets: map[int64]*StatsRow{}}
}

// Add counts one record.
func (b *StatsBuilder) Add(s *Summary) {
	b.total.add(s)
	switch b.q.GroupBy {
	case GroupService:
		b.group(s.Service).add(s)
	case GroupUser:
		b.group(s.UserID).add(s)
	case GroupRun:
		b.group(s.RunID).add(s)
	case GroupSession:
		b.group(s.SessionID).add(s)
	case GroupModel:
		if len(s.Models) == 0 {
			b.group("").add(s)
		}
		for _, m := range s.Models {
			b.group(m).add(s)
		}
	}
	if b.q.Bucket > 0 {
		w := int64(b.q.Bucket)
		k := s.Start - ((s.Start%w)+w)%w
		row := b.buckets[k]
		if row == nil {
			t := time.Unix(0, k).UTC()
			row = &StatsRow{Start: &t, lat: Hist{}}
			b.buckets[k] = row
		}
		row.add(s)
	}
}

func (b *StatsBuilder) group(key string) *StatsRow {
	row := b.groups[key]
	if row == nil {
		row = &StatsRow{lat: Hist{}}
		if key != "" {
			k := key
			row.Key = &k
		}
		b.groups[key] = row
	}
	return row
}

// Result renders the stats.
func (b *StatsBuilder) Result() *Stats {
	st := &Stats{GroupBy: b.q.GroupBy, Groups: []*StatsRow{}}
	if !b.q.From.IsZero() {
		st.From = &b.q.From
	}
	if !b.q.To.IsZero() {
		st.To = &b.q.To
	}
	if b.q.Bucket > 0 {
		st.Bucket = b.q.Bucket.String()
		st.Buckets = []*StatsRow{}
	}
	b.total.LatencyMS = b.total.lat.Percentiles()
	st.Total = b.total
	for _, row := range b.groups {
		row.LatencyMS = row.lat.Percentiles()
		st.Groups = append(st.Groups, row)
	}
	sort.Slice(st.Groups, func(i, j int) bool {
		a, c := st.Groups[i], st.Groups[j]
		if a.CostUSD != c.CostUSD {
			return a.CostUSD > c.CostUSD
		}
		if a.RecordCount != c.RecordCount {
			return a.RecordCount > c.RecordCount
		}
		return keyOf(a) < keyOf(c)
	})
	for _, row := range b.buckets {
		row.LatencyMS = row.lat.Percentiles()
		st.Buckets = append(st.Buckets, row)
	}
	sort.Slice(st.Buckets, func(i, j int) bool { return st.Buckets[i].Start.Before(*st.Buckets[j].Start) })
	return st
}

func keyOf(r *StatsRow) string {
	if r.Key == nil {
		return ""
	}
	return *r.Key
}
