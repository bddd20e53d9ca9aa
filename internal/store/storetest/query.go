package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

var queryTests = []struct {
	name string
	fn   func(*testing.T, Factory)
}{
	{"ListRecords_EachFilterSelects", testFilters},
	{"ListRecords_SortsWithCursor", testSorts},
	{"ListRecords_FilteredPagesStableWhileRecordsArrive", testFilteredPagination},
	{"ListRecords_ScanBudgetEndsPagesEarlyButMissesNothing", testScanBudget},
	{"Search_WordsPhrasesCaseInsensitive", testSearch},
	{"Search_RefoldDropsStaleText", testSearchRefold},
	{"Search_CommonWordInThousandsOfRecords", testSearchCommonWord},
	{"Scores_SurviveRefoldAndFilter", testScores},
	{"Scores_RaisedFlagsSetStatusAndClear", testScoreFlags},
	{"Runs_AggregatesFollowLateSpans", testRuns},
	{"Stats_GroupByAndBuckets", testStats},
	{"Objects_StoredPerProject", testObjects},
	{"DeleteBefore_RemovesRecordsAndTheirIndexes", testDeleteBefore},
	{"Tenancy_QueriesNeverCrossProjects", testQueryTenancy},
}

// oneSpan is a single-span (root LLM call) trace.
func oneSpan(trace int, startMS, durMS int64, attrs map[string]any) SpanSpec {
	a := map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true}
	for k, v := range attrs {
		a[k] = v
	}
	return SpanSpec{Trace: trace, ID: 1, Name: fmt.Sprint("call ", trace), StartMS: startMS, EndMS: startMS + durMS, Attrs: a}
}

// fixture writes a small, varied project "p1" and returns the specs by trace number.
func fixture(t *testing.T, s store.Store) {
	t.Helper()
	specs := []SpanSpec{
		oneSpan(1, 1000, 100, map[string]any{llmschema.Input: "What is the capital of France?", llmschema.Output: "Paris is the capital.",
			llmschema.RunID: "run-a", llmschema.UserID: "u1", llmschema.SessionID: "s1", llmschema.ResponseModel: "gpt-4o",
			llmschema.CostUSD: 0.5, llmschema.UsageInputTokens: 100, llmschema.UsageOutputTokens: 10, llmschema.MetadataPrefix + "env": "prod"}),
		oneSpan(2, 2000, 300, map[string]any{llmschema.Input: "Capital of Spain", llmschema.Output: "Madrid",
			llmschema.RunID: "run-a", llmschema.UserID: "u2", llmschema.SessionID: "s1", llmschema.ResponseModel: "claude-3",
			llmschema.CostUSD: 0.1, llmschema.UsageInputTokens: 5, llmschema.UsageOutputTokens: 5, llmschema.MetadataPrefix + "env": "dev",
			llmschema.Flags: `[{"code":"off_topic","category":"behavioral","severity":"warning","message":"m"}]`}),
		oneSpan(3, 3000, 50, map[string]any{llmschema.Input: "the france trip", llmschema.Output: "capital letters", llmschema.Expected: "Lyon is in France",
			llmschema.RunID: "run-b", llmschema.UserID: "u1", llmschema.ResponseModel: "gpt-4o", llmschema.TestcaseID: "tc-9",
			llmschema.Source: llmschema.SourceProxy, llmschema.CostUSD: 0.9, llmschema.UsageInputTokens: 1000, llmschema.UsageOutputTokens: 1}),
		{Trace: 4, ID: 1, Name: "boom", StartMS: 4000, EndMS: 6000, Error: true, Service: "billing", Attrs: map[string]any{
			llmschema.SpanKind: "workflow", llmschema.Input: "charge the card", llmschema.MetadataPrefix + "env": "prod"}},
	}
	write(t, s, MakeSpans(t, "p1", specs...))
}

func ids(recs []*store.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprint(int(hexVal(r.TraceID[30]))*16+int(hexVal(r.TraceID[31]))))
	}
	return strings.Join(out, ",")
}

func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

func list(t *testing.T, s store.Store, project string, q store.Query) []*store.Record {
	t.Helper()
	var all []*store.Record
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListRecords(context.Background(), project, q)
		if err != nil {
			t.Fatalf("ListRecords(%+v): %v", q, err)
		}
		all = append(all, page.Records...)
		if page.NextCursor == "" {
			return all
		}
		q.Cursor = page.NextCursor
	}
}

func testFilters(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	pass, fail := true, false
	if err := s.PutScore(context.Background(), "p1", TraceHex(1), "helpful", store.Score{Value: 0.8, Passed: &pass, Source: "human"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutScore(context.Background(), "p1", TraceHex(2), "helpful", store.Score{Value: 0.2, Passed: &fail, Source: "human"}); err != nil {
		t.Fatal(err)
	}
	at := func(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name string
		f    store.Filter
		want string
	}{
		{"none", store.Filter{}, "4,3,2,1"},
		{"status error", store.Filter{Status: "error"}, "4"},
		{"status flagged", store.Filter{Status: "flagged"}, "2"},
		{"status ok", store.Filter{Status: "ok"}, "3,1"},
		{"source proxy", store.Filter{Source: "proxy"}, "3"},
		{"trace id", store.Filter{TraceID: TraceHex(2)}, "2"},
		{"unknown trace id", store.Filter{TraceID: "zz"}, ""},
		{"run", store.Filter{RunID: "run-a"}, "2,1"},
		{"testcase", store.Filter{TestcaseID: "tc-9"}, "3"},
		{"service", store.Filter{Service: "billing"}, "4"},
		{"model", store.Filter{Model: "gpt-4o"}, "3,1"},
		{"user", store.Filter{UserID: "u1"}, "3,1"},
		{"session", store.Filter{SessionID: "s1"}, "2,1"},
		{"flag", store.Filter{Flag: "off_topic"}, "2"},
		{"meta", store.Filter{Meta: map[string]string{"env": "prod"}}, "4,1"},
		{"meta and user", store.Filter{Meta: map[string]string{"env": "prod"}, UserID: "u1"}, "1"},
		{"metric numeric", store.Filter{Metrics: []store.MetricCond{{Name: "helpful", Op: ">", Value: 0.5}}}, "1"},
		{"metric pass", store.Filter{Metrics: []store.MetricCond{{Name: "helpful", Op: "=", Pass: &fail}}}, "2"},
		{"metric missing", store.Filter{Metrics: []store.MetricCond{{Name: "other", Op: ">", Value: 0}}}, ""},
		{"from", store.Filter{From: at(2000)}, "4,3,2"},
		{"to exclusive", store.Filter{To: at(3000)}, "2,1"},
		{"from to and status", store.Filter{From: at(1500), To: at(5000), Status: "ok"}, "3"},
		{"min cost", store.Filter{MinCost: 0.5}, "3,1"},
		{"min duration", store.Filter{MinDurationMS: 200}, "4,2"},
		{"run and model disjoint", store.Filter{RunID: "run-b", Model: "claude-3"}, ""},
		{"text and run", store.Filter{Text: "capital", RunID: "run-a"}, "2,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, sort := range []store.Sort{{Field: store.SortTime}, {Field: store.SortCost}} {
				got := list(t, s, "p1", store.Query{Filter: tt.f, Sort: sort, Limit: 1})
				if sort.Field == store.SortTime {
					if ids(got) != tt.want {
						t.Errorf("sort %s: got %q, want %q", sort, ids(got), tt.want)
					}
					continue
				}
				if a, b := sortedIDs(ids(got)), sortedIDs(tt.want); a != b {
					t.Errorf("sort %s: got %q, want the records %q", sort, a, b)
				}
			}
		})
	}
}

func sortedIDs(s string) string {
	if s == "" {
		return ""
	}
	p := strings.Split(s, ",")
	sort.Strings(p)
	return strings.Join(p, ",")
}

func testSorts(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	tests := []struct {
		sort string
		want string
	}{
		{"", "4,3,2,1"},
		{"time", "1,2,3,4"},
		{"-cost", "3,1,2,4"},
		{"cost", "4,2,1,3"},
		{"-duration", "4,2,1,3"},
		{"duration", "3,1,2,4"},
		{"-tokens", "3,1,2,4"},
		{"tokens", "4,2,1,3"},
	}
	for _, tt := range tests {
		t.Run(tt.sort, func(t *testing.T) {
			srt, err := store.ParseSort(tt.sort)
			if err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{1, 3, 10} {
				if got := ids(list(t, s, "p1", store.Query{Sort: srt, Limit: limit})); got != tt.want {
					t.Fatalf("limit %d: got %s, want %s", limit, got, tt.want)
				}
			}
		})
	}
	page, err := s.ListRecords(context.Background(), "p1", store.Query{Sort: store.Sort{Field: store.SortCost}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListRecords(context.Background(), "p1", store.Query{Cursor: page.NextCursor}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("a cost cursor used with the time sort: %v, want ErrBadCursor", err)
	}
	if _, err := store.ParseSort("-colour"); err == nil {
		t.Fatal("ParseSort accepts an unknown field")
	}
}

func testFilteredPagination(t *testing.T, open Factory) {
	for _, q := range []store.Query{
		{Filter: store.Filter{Status: "error"}, Limit: 3},
		{Filter: store.Filter{Text: "hello"}, Limit: 4},
		{Filter: store.Filter{Status: "error"}, Sort: store.Sort{Field: store.SortDuration}, Limit: 3},
	} {
		s := open(t)
		for i := 1; i <= 30; i++ {
			status := i%3 == 0
			write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: i, ID: 1, Name: "t", StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + int64(i), Error: status,
				Attrs: map[string]any{llmschema.Input: fmt.Sprint("hello number ", i)}}))
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			q.Cursor = cursor
			page, err := s.ListRecords(context.Background(), "p1", q)
			if err != nil {
				t.Fatal(err)
			}
			if pages == 0 {
				// Newer and larger records arriving between pages do not shift later pages.
				write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 100 + pages, ID: 1, Name: "new", StartMS: 999000, EndMS: 999000 + 999999, Error: true,
					Attrs: map[string]any{llmschema.Input: "hello late"}}))
			}
			for _, r := range page.Records {
				if seen[r.ID] {
					t.Fatalf("%+v: %s listed twice", q.Filter, r.ID)
				}
				seen[r.ID] = true
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		want := 10
		if q.Text != "" {
			want = 30
		}
		if len(seen) != want || seen[TraceHex(100)] {
			t.Fatalf("%+v sort %s: listed %d records (late one: %v), want %d", q.Filter, q.Sort, len(seen), seen[TraceHex(100)], want)
		}
	}
}

func testSearch(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	tests := []struct {
		q    string
		want string
	}{
		{"capital", "3,2,1"},
		{"CAPITAL", "3,2,1"},
		{"france", "3,1"},
		{"capital france", "3,1"},
		{`"capital of"`, "2,1"},
		{`"of france"`, "1"},
		{`"france capital"`, ""},
		{"lyon", "3"},
		{"madrid paris", ""},
		{"card", "4"},
		{"nothing-here", ""},
		{"capit", ""},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Text: tt.q}, Limit: 2})); got != tt.want {
				t.Fatalf("q=%s: got %q, want %q", tt.q, got, tt.want)
			}
		})
	}
	r := get(t, s, "p1", 1)
	hl := store.Highlights(r, store.ParseText(`"of France" paris`))
	if len(hl) != 2 || hl[0].Field != "input" || hl[1].Field != "output" {
		t.Fatalf("highlights: %+v", hl)
	}
	in := []rune(hl[0].Snippet)
	if got := string(in[hl[0].Ranges[0][0]:hl[0].Ranges[0][1]]); got != "of France" {
		t.Fatalf("input highlight range marks %q, want %q", got, "of France")
	}
}

func testSearchRefold(t *testing.T, open Factory) {
	s := open(t)
	// The child LLM call's input is the record's input until the root, with its own input,
	// arrives; a search must then find the root's text and not the child's any more.
	write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 1, ID: 2, Parent: 1, Name: "llm", StartMS: 10, EndMS: 20, Attrs: map[string]any{
		llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.Input: "zebra question", llmschema.Output: "stripes"}}))
	if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Text: "zebra"}})); got != "1" {
		t.Fatalf("before the root: zebra finds %q", got)
	}
	// The root also starts earlier, in another hour, moving the record in every index.
	write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 1, ID: 1, Name: "root", StartMS: -2 * 3600 * 1000, EndMS: 30, Attrs: map[string]any{
		llmschema.SpanKind: "workflow", llmschema.Input: "giraffe question", llmschema.Output: "tall"}}))
	for q, want := range map[string]string{"zebra": "", "giraffe": "1", "question": "1", "stripes": "", "tall": "1"} {
		if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Text: q}})); got != want {
			t.Errorf("after the root: %s finds %q, want %q", q, got, want)
		}
	}
	if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{From: base.Add(-time.Hour)}})); got != "" {
		t.Errorf("record still listed at its old start: %q", got)
	}
}

// testSearchCommonWord keeps one word in every record of an hour while records move into an
// older hour, out of order and in bulk, and are deleted: long posting lists (chunked in the
// bbolt store) must stay exact through all of it.
func testSearchCommonWord(t *testing.T, open Factory) {
	s := open(t)
	const n = 1300
	early := -3 * 3600 * 1000 // ms: three hours before base
	rec := func(i int, startMS int64) SpanSpec {
		return oneSpan(i, startMS, 5, map[string]any{llmschema.Input: fmt.Sprintf("common w%d", i), llmschema.Output: "shared answer"})
	}
	writeBatches := func(specs []SpanSpec) {
		for len(specs) > 0 {
			k := min(len(specs), 97)
			write(t, s, MakeSpans(t, "p1", specs[:k]...))
			specs = specs[k:]
		}
	}
	var specs []SpanSpec
	for i := 1; i <= n; i++ {
		specs = append(specs, rec(i, int64(i)))
	}
	writeBatches(specs)
	// Records move to the earlier hour when an earlier span arrives: first a few, then new
	// records there, then many more old ones (below everything already listed there).
	moved := map[int]bool{}
	move := func(pick func(i int) bool) {
		var late []SpanSpec
		for i := 1; i <= n; i++ {
			if !moved[i] && pick(i) {
				moved[i] = true
				late = append(late, SpanSpec{Trace: i, ID: 2, Parent: 1, Name: "early", StartMS: int64(early + i), EndMS: int64(early + i + 1)})
			}
		}
		writeBatches(late)
	}
	move(func(i int) bool { return i%7 == 0 })
	specs = specs[:0]
	for i := n + 1; i <= n+400; i++ {
		specs = append(specs, rec(i, int64(early+i)))
	}
	writeBatches(specs)
	move(func(i int) bool { return i%2 == 1 })
	total := n + 400
	inEarly := 400 + len(moved)

	count := func(f store.Filter) int {
		t.Helper()
		c := 0
		if err := store.Each(context.Background(), s, "p1", store.Query{Filter: f}, func(*store.Record) error { c++; return nil }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	hourEnd := base.Add(time.Duration(early)*time.Millisecond + time.Hour)
	check := func(stage string, wantAll, wantEarly int) {
		t.Helper()
		if got := count(store.Filter{Text: "common"}); got != wantAll {
			t.Errorf("%s: common finds %d records, want %d", stage, got, wantAll)
		}
		if got := count(store.Filter{Text: "shared answer", To: hourEnd}); got != wantEarly {
			t.Errorf("%s: common in the early hour finds %d, want %d", stage, got, wantEarly)
		}
		for _, i := range []int{1, 2, 7, 256, 257, 700, 1299, n + 1, n + 400} {
			got := list(t, s, "p1", store.Query{Filter: store.Filter{Text: fmt.Sprintf("common w%d", i)}})
			if len(got) != 1 || got[0].TraceID != TraceHex(i) {
				t.Errorf("%s: w%d finds %d records, want record %d alone", stage, i, len(got), i)
			}
		}
	}
	check("after moves", total, inEarly)
	// Deleting the early hour's records removes them from every chunk.
	deleted, err := s.DeleteBefore(context.Background(), hourEnd)
	if err != nil || deleted != inEarly {
		t.Fatalf("DeleteBefore = %d, %v; want %d", deleted, err, inEarly)
	}
	if got := count(store.Filter{Text: "common"}); got != total-inEarly {
		t.Errorf("after delete: common finds %d, want %d", got, total-inEarly)
	}
	if got := count(store.Filter{Text: "w1"}); got != 0 {
		t.Errorf("after delete: moved record w1 still found %d times", got)
	}
}

func testScores(t *testing.T, open Factory) {
	s := open(t)
	all := AgentTrace(1, 0)
	write(t, s, MakeSpans(t, "p1", all[1:]...))
	pass := true
	if err := s.PutScore(context.Background(), "p1", TraceHex(1), "correct", store.Score{Value: 1.0, Passed: &pass, Reason: "matches", Source: "human"}); err != nil {
		t.Fatal(err)
	}
	write(t, s, MakeSpans(t, "p1", all[0]))
	r := get(t, s, "p1", 1)
	sc, ok := r.Scores["correct"]
	if !ok || sc.Reason != "matches" || sc.Passed == nil || !*sc.Passed || r.SpanCount != 4 {
		t.Fatalf("score after late root span: %+v (spans %d)", r.Scores, r.SpanCount)
	}
	got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Metrics: []store.MetricCond{{Name: "correct", Op: ">=", Value: 1}}}}))
	if got != "1" {
		t.Fatalf("metric filter: %q", got)
	}
	if err := s.PutScore(context.Background(), "p1", TraceHex(9), "correct", store.Score{Value: 1.0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("score on a missing record: %v", err)
	}
	if err := s.PutScore(context.Background(), "p2", TraceHex(1), "correct", store.Score{Value: 1.0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("score on another project's record: %v", err)
	}
	if err := s.PutScore(context.Background(), "p1", TraceHex(1), "", store.Score{Value: 1.0}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("score without a name: %v", err)
	}
	run, err := s.GetRun(context.Background(), "p1", "batch-job-123")
	if err != nil || run.Scores["correct"].Count != 1 || *run.Scores["correct"].PassRate != 1 {
		t.Fatalf("run scores: %+v, %v", run, err)
	}
}

func testScoreFlags(t *testing.T, open Factory) {
	s := open(t)
	all := AgentTrace(1, 0)
	write(t, s, MakeSpans(t, "p1", all[1:]...))
	fail, pass := false, true
	flag := &llmschema.Flag{Code: "judge_off_topic", Category: llmschema.CategoryBehavioral, Severity: llmschema.SeverityWarning, Message: "off topic", Source: "judge"}
	if err := s.PutScore(context.Background(), "p1", TraceHex(1), "off_topic", store.Score{Value: 0.0, Passed: &fail, Source: "judge", Flag: flag}); err != nil {
		t.Fatal(err)
	}
	// A late span folds in; the raised flag and the status it causes stay.
	write(t, s, MakeSpans(t, "p1", all[0]))
	r := get(t, s, "p1", 1)
	if r.Status != store.StatusFlagged || len(r.Flags) != 1 || r.Flags[0].Code != "judge_off_topic" || r.Flags[0].SpanID != "" {
		t.Fatalf("after a failing judged score and a late span: status %q, flags %+v", r.Status, r.Flags)
	}
	if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Flag: "judge_off_topic"}})); got != "1" {
		t.Fatalf("flag filter finds %q, want 1", got)
	}
	if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Status: store.StatusFlagged}})); got != "1" {
		t.Fatalf("status filter finds %q, want 1", got)
	}
	// Judged again and passed: the flag goes, and the status with it.
	if err := s.PutScore(context.Background(), "p1", TraceHex(1), "off_topic", store.Score{Value: 1.0, Passed: &pass, Source: "judge"}); err != nil {
		t.Fatal(err)
	}
	r = get(t, s, "p1", 1)
	if r.Status != store.StatusOK || len(r.Flags) != 0 {
		t.Fatalf("after the score passed: status %q, flags %+v", r.Status, r.Flags)
	}
	if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Flag: "judge_off_topic"}})); got != "" {
		t.Fatalf("flag filter still finds %q", got)
	}
}

func testRuns(t *testing.T, open Factory) {
	s := open(t)
	// Run batch-job-123 is on the root span: the records join the run when it arrives.
	a, b := AgentTrace(1, 0), AgentTrace(2, 5000)
	write(t, s, MakeSpans(t, "p1", a[1:]...))
	if _, err := s.GetRun(context.Background(), "p1", "batch-job-123"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("run before any root: %v", err)
	}
	write(t, s, MakeSpans(t, "p1", a[0]))
	write(t, s, MakeSpans(t, "p1", b...))
	write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 2, ID: 9, Parent: 1, Name: "late", StartMS: 5000, EndMS: 9000, Error: true}))
	write(t, s, MakeSpans(t, "p1", oneSpan(3, 100, 10, map[string]any{llmschema.RunID: "other"})))
	run, err := s.GetRun(context.Background(), "p1", "batch-job-123")
	if err != nil {
		t.Fatal(err)
	}
	if run.RecordCount != 2 || run.StatusCounts != (store.StatusCounts{OK: 1, Error: 1}) || run.Usage.Total != 278 {
		t.Fatalf("run: count=%d status=%+v usage=%+v", run.RecordCount, run.StatusCounts, run.Usage)
	}
	if d := run.CostUSD - 0.000083; d > 1e-12 || d < -1e-12 {
		t.Errorf("run cost %v, want 0.000083", run.CostUSD)
	}
	if !run.FirstSeen.Equal(base) || !run.LastSeen.Equal(base.Add(9*time.Second)) {
		t.Errorf("run seen %v..%v", run.FirstSeen, run.LastSeen)
	}
	// Latencies 2333 and 4000 ms; the histogram is within 2%.
	if p := run.LatencyMS; p.P50 < 2333*0.98 || p.P50 > 2333*1.02 || p.P99 < 4000*0.98 || p.P99 > 4000*1.02 {
		t.Errorf("run latency %+v, want p50≈2333 p99≈4000", p)
	}
	page, err := s.ListRuns(context.Background(), "p1", store.RunQuery{Limit: 1})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != "batch-job-123" || page.NextCursor == "" {
		t.Fatalf("first runs page: %+v, %v", page, err)
	}
	page, err = s.ListRuns(context.Background(), "p1", store.RunQuery{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != "other" || page.NextCursor != "" {
		t.Fatalf("second runs page: %+v, %v", page, err)
	}
	if _, err := s.ListRuns(context.Background(), "p1", store.RunQuery{Cursor: "nope"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad run cursor: %v", err)
	}
}

func testStats(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	st, err := s.Stats(context.Background(), "p1", store.StatsQuery{GroupBy: store.GroupModel, Bucket: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, g := range st.Groups {
		key := "-"
		if g.Key != nil {
			key = *g.Key
		}
		rows = append(rows, fmt.Sprintf("%s:%d:%.1f:%d:%d", key, g.RecordCount, g.CostUSD, g.Usage.Total, g.ErrorCount))
	}
	if got := strings.Join(rows, " "); got != "gpt-4o:2:1.4:1111:0 claude-3:1:0.1:10:0 -:1:0.0:0:1" {
		t.Fatalf("groups by model: %s", got)
	}
	if st.Total.RecordCount != 4 || st.Total.FlagCount != 1 || st.Total.StatusCounts.Flagged != 1 {
		t.Fatalf("total: %+v", st.Total)
	}
	if len(st.Buckets) != 4 || !st.Buckets[0].Start.Equal(base.Add(time.Second)) || st.Buckets[3].RecordCount != 1 {
		t.Fatalf("buckets: %d, first %v", len(st.Buckets), st.Buckets[0].Start)
	}
	st, err = s.Stats(context.Background(), "p1", store.StatsQuery{GroupBy: store.GroupUser, From: base.Add(1500 * time.Millisecond), To: base.Add(3500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Total.RecordCount != 2 || len(st.Groups) != 2 || *st.Groups[0].Key != "u1" || st.Groups[0].LatencyMS.P50 < 49 || st.Groups[0].LatencyMS.P50 > 51 {
		t.Fatalf("stats by user in range: %+v", st.Groups)
	}
}

func testObjects(t *testing.T, open Factory) {
	s := open(t)
	ctx := context.Background()
	for _, o := range []struct{ p, k, n, v string }{{"p1", "view", "b", "2"}, {"p1", "view", "a", "1"}, {"p1", "dataset", "a", "x"}, {"p2", "view", "c", "3"}} {
		if err := s.PutObject(ctx, o.p, o.k, o.n, []byte(o.v)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := s.ListObjects(ctx, "p1", "view")
	if err != nil || len(objs) != 2 || objs[0].Name != "a" || string(objs[1].Body) != "2" {
		t.Fatalf("views of p1: %+v, %v", objs, err)
	}
	if v, err := s.GetObject(ctx, "p1", "dataset", "a"); err != nil || string(v) != "x" {
		t.Fatalf("get: %q, %v", v, err)
	}
	if _, err := s.GetObject(ctx, "p2", "view", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("p2 reads p1's view: %v", err)
	}
	if err := s.DeleteObject(ctx, "p1", "view", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, "p1", "view", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.PutObject(ctx, "p1", "view", "", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("nameless object: %v", err)
	}
}

func testDeleteBefore(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	write(t, s, MakeSpans(t, "p2", oneSpan(1, 500, 10, map[string]any{llmschema.Input: "capital", llmschema.RunID: "run-a"})))
	n, err := s.DeleteBefore(context.Background(), base.Add(2500*time.Millisecond))
	if err != nil || n != 3 {
		t.Fatalf("DeleteBefore = %d, %v; want 3", n, err)
	}
	if got := ids(list(t, s, "p1", store.Query{})); got != "4,3" {
		t.Fatalf("left: %q", got)
	}
	for _, f := range []store.Filter{{Text: "capital"}, {RunID: "run-a"}, {UserID: "u2"}} {
		if got := ids(list(t, s, "p1", store.Query{Filter: f})); got != "3" && got != "" {
			t.Fatalf("%+v finds deleted records: %q", f, got)
		}
	}
	if got := ids(list(t, s, "p1", store.Query{Sort: store.Sort{Field: store.SortCost}})); got != "3,4" {
		t.Fatalf("cost index keeps deleted records: %q", got)
	}
	if _, err := s.GetSpans(context.Background(), "p1", TraceHex(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("spans of a deleted record: %v", err)
	}
	if _, err := s.GetRun(context.Background(), "p1", "run-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("run of deleted records: %v", err)
	}
	if _, err := s.GetRecord(context.Background(), "p2", TraceHex(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("p2's old record kept: %v", err)
	}
}

func testQueryTenancy(t *testing.T, open Factory) {
	s := open(t)
	fixture(t, s)
	ctx := context.Background()
	for _, f := range []store.Filter{{Text: "capital"}, {RunID: "run-a"}, {Status: "error"}, {TraceID: TraceHex(1)}, {Meta: map[string]string{"env": "prod"}}} {
		if got := ids(list(t, s, "p", store.Query{Filter: f})); got != "" {
			t.Fatalf("project p sees p1's records with %+v: %s", f, got)
		}
	}
	if _, err := s.GetRun(ctx, "p", "run-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("project p sees p1's run: %v", err)
	}
	runs, err := s.ListRuns(ctx, "p", store.RunQuery{})
	if err != nil || len(runs.Runs) != 0 {
		t.Fatalf("project p lists runs %+v, %v", runs.Runs, err)
	}
	st, err := s.Stats(ctx, "p", store.StatsQuery{GroupBy: store.GroupService})
	if err != nil || st.Total.RecordCount != 0 {
		t.Fatalf("project p's stats count p1: %+v, %v", st.Total, err)
	}
}

// testScanBudget pages with a tiny budget: a backend may end pages early (bbolt does, see
// its own test), but the pages together must list exactly what an unbounded scan lists.
func testScanBudget(t *testing.T, open Factory) {
	s := open(t)
	for i := 1; i <= 40; i++ {
		text := "alpha beta gamma"
		if i%4 == 0 {
			text = "gamma beta alpha"
		}
		write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: i, ID: 1, Name: "t", StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + int64(i%7),
			Error: i%5 == 0, Attrs: map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.Input: text, llmschema.CostUSD: float64(i % 9)}}))
	}
	for _, q := range []store.Query{
		{Filter: store.Filter{Text: `"gamma beta"`}},
		{Filter: store.Filter{Status: "error"}},
		{Filter: store.Filter{MinCost: 5}, Sort: store.Sort{Field: store.SortCost}},
		{Filter: store.Filter{Text: "alpha", MinDurationMS: 3}, Sort: store.Sort{Field: store.SortTime, Asc: true}},
	} {
		want := ids(list(t, s, "p1", q))
		if want == "" {
			t.Fatalf("%+v matches nothing; the test needs matches", q.Filter)
		}
		q.ScanBudget, q.Limit = 2*store.RecordCost, 3
		var got []string
		for pages := 0; ; pages++ {
			if pages > 200 {
				t.Fatalf("%+v: paging with a small budget does not end", q.Filter)
			}
			page, err := s.ListRecords(context.Background(), "p1", q)
			if err != nil {
				t.Fatal(err)
			}
			if p := ids(page.Records); p != "" {
				got = append(got, p)
			}
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				break
			}
		}
		if g := strings.Join(got, ","); g != want {
			t.Fatalf("%+v with a small scan budget: %s, want %s", q.Filter, g, want)
		}
	}
}
