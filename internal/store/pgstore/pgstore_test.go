package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/pgstore/pgtest"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, zaptest.NewLogger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, srv.NewDatabase(t))
	})
}

// Replicas starting together against an empty database: each migration is applied once,
// every Open succeeds and sees the whole schema.
func TestOpen_ConcurrentReplicasMigrateOnce(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make(chan error, replicas)
	stores := make(chan *Store, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, zaptest.NewLogger(t), Options{})
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		}()
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Fatal(err)
	}
	var s *Store
	for st := range stores {
		s = st
		t.Cleanup(func() { _ = st.Close() })
	}
	var applied, max int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&applied, &max); err != nil {
		t.Fatal(err)
	}
	if applied != SchemaVersion() || max != SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to version %d, want %d", applied, max, SchemaVersion())
	}
}

// convergenceTrace is an agent trace plus a flagged guard span and an error span, so that
// every kind of record field (lists, status, text, tokens) is exercised.
func convergenceTrace(n int) []storetest.SpanSpec {
	specs := storetest.AgentTrace(n, int64(n)*10000)
	start := int64(n) * 10000
	specs = append(specs,
		storetest.SpanSpec{Trace: n, ID: 5, Parent: 4, Name: "guard", StartMS: start + 2301, EndMS: start + 2310, Attrs: map[string]any{
			llmschema.SpanKind: "guardrail", llmschema.Flags: `[{"code":"off_topic","category":"behavioral","severity":"warning","message":"m"}]`}},
		storetest.SpanSpec{Trace: n, ID: 6, Parent: 1, Name: "retry", StartMS: start + 2311, EndMS: start + 2400, Error: n%2 == 0, Attrs: map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: fmt.Sprint("model-", n%3),
			llmschema.UsageInputTokens: n, llmschema.UsageOutputTokens: 1, llmschema.CostUSD: 0.001 * float64(n)}},
	)
	return specs
}

// normalized is a record as JSON with its list fields sorted: Fold appends models and flags
// in arrival order, which differs between nodes as it does between runs of one node.
func normalized(t *testing.T, r *store.Record) string {
	t.Helper()
	c := *r
	c.Models = append([]string{}, r.Models...)
	sort.Strings(c.Models)
	c.Flags = append([]llmschema.Flag{}, r.Flags...)
	sort.Slice(c.Flags, func(i, j int) bool { return c.Flags[i].SpanID+c.Flags[i].Code < c.Flags[j].SpanID+c.Flags[j].Code })
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Two stores on one database stand for two replicas without trace affinity: the spans of
// the same traces arrive interleaved, children before parents, with duplicates on both,
// from concurrent writers. Every record must equal the one a single store builds from one
// ordered write, and the run aggregate must count each record once.
func TestReplicas_InterleavedSpansConvergeToSingleNodeRecord(t *testing.T) {
	srv := pgtest.Start(t)
	ref := open(t, srv.NewDatabase(t))
	shared := srv.NewDatabase(t)
	replicas := []*Store{open(t, shared), open(t, shared)}
	const traces = 40
	var all []store.Span
	for n := 1; n <= traces; n++ {
		spans := storetest.MakeSpans(t, "p1", convergenceTrace(n)...)
		if err := ref.WriteSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
		all = append(all, spans...)
	}
	// Children first (reverse span order within the whole list), then shuffled in windows
	// so that writers race on the same traces; a third of the spans is sent twice.
	rng := rand.New(rand.NewSource(1))
	var work []store.Span
	for i := len(all) - 1; i >= 0; i-- {
		work = append(work, all[i])
		if rng.Intn(3) == 0 {
			work = append(work, all[i])
		}
	}
	for i := 0; i+8 <= len(work); i += 8 {
		rng.Shuffle(8, func(a, b int) { work[i+a], work[i+b] = work[i+b], work[i+a] })
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(work); i += writers {
				end := i + 1
				if i%5 == 0 && i+writers < len(work) {
					// Some batches carry two spans, usually of different traces.
					end = i + 2
				}
				if err := replicas[i%2].WriteSpans(context.Background(), work[i:end]); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for n := 1; n <= traces; n++ {
		want, err := ref.GetRecord(context.Background(), "p1", storetest.TraceHex(n))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range replicas {
			got, err := r.GetRecord(context.Background(), "p1", storetest.TraceHex(n))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := normalized(t, got), normalized(t, want); g != w {
				t.Fatalf("trace %d on replica %d:\n got %s\nwant %s", n, i+1, g, w)
			}
		}
	}
	wantRun, err := ref.GetRun(context.Background(), "p1", "batch-job-123")
	if err != nil {
		t.Fatal(err)
	}
	gotRun, err := replicas[1].GetRun(context.Background(), "p1", "batch-job-123")
	if err != nil {
		t.Fatal(err)
	}
	if gotRun.RecordCount != traces || gotRun.RecordCount != wantRun.RecordCount || gotRun.Usage != wantRun.Usage ||
		gotRun.StatusCounts != wantRun.StatusCounts || gotRun.LatencyMS != wantRun.LatencyMS ||
		math.Abs(gotRun.CostUSD-wantRun.CostUSD) > 1e-12 || !gotRun.FirstSeen.Equal(wantRun.FirstSeen) || !gotRun.LastSeen.Equal(wantRun.LastSeen) {
		t.Fatalf("run on the replicas %+v\nsingle node %+v", gotRun, wantRun)
	}
}

// A run is the merge of its delta rows: a replaced score changes the run's mean without
// changing its count, and compaction into one row changes nothing a reader sees.
func TestRuns_DeltasMergeAndCompact(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	s, err := Open(ctx, srv.NewDatabase(t), zaptest.NewLogger(t), Options{CompactInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, spans := range [][]storetest.SpanSpec{storetest.AgentTrace(1, 0), storetest.AgentTrace(2, 5000)} {
		for _, sp := range spans {
			if err := s.WriteSpans(ctx, storetest.MakeSpans(t, "p1", sp)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pass, fail := true, false
	for _, sc := range []store.Score{{Value: 0.2, Passed: &fail, Source: "judge"}, {Value: 0.8, Passed: &pass, Source: "judge"}} {
		if err := s.PutScore(ctx, "p1", storetest.TraceHex(1), "quality", sc); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() int {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM run_deltas WHERE project = 'p1'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n < 8 {
		t.Fatalf("%d delta rows before compaction, want one per write (at least 8)", n)
	}
	read := func() string {
		run, err := s.GetRun(ctx, "p1", "batch-job-123")
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.ListRuns(ctx, "p1", store.RunQuery{})
		if err != nil || len(page.Runs) != 1 {
			t.Fatalf("ListRuns: %+v, %v", page, err)
		}
		a, _ := json.Marshal(run)
		b, _ := json.Marshal(page.Runs[0])
		if string(a) != string(b) {
			t.Fatalf("GetRun %s\nListRuns %s", a, b)
		}
		q := run.Scores["quality"]
		if run.RecordCount != 2 || run.Usage.Total != 278 || q.Count != 1 || q.Mean == nil || *q.Mean != 0.8 || q.PassRate == nil || *q.PassRate != 1 {
			t.Fatalf("run %s", a)
		}
		return string(a)
	}
	before := read()
	s.compactDirty()
	if n := rows(); n != 1 {
		t.Fatalf("%d delta rows after compaction, want 1", n)
	}
	if after := read(); after != before {
		t.Fatalf("compaction changed the run:\nbefore %s\nafter  %s", before, after)
	}
}

// Every row a page reads is a whole record checked in Go, so a small scan budget ends pages
// early with a cursor that continues where the scan stopped, and nothing is lost.
func TestListRecords_ScanBudgetEndsPagesEarly(t *testing.T) {
	srv := pgtest.Start(t)
	s := open(t, srv.NewDatabase(t))
	ctx := context.Background()
	for i := 1; i <= 20; i++ {
		text := "alpha beta"
		if i%3 == 0 {
			text = "beta alpha"
		}
		if err := s.WriteSpans(ctx, storetest.MakeSpans(t, "p1", storetest.SpanSpec{Trace: i, ID: 1, Name: "t", StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 1,
			Attrs: map[string]any{llmschema.Input: text}})); err != nil {
			t.Fatal(err)
		}
	}
	q := store.Query{Filter: store.Filter{Text: `"beta alpha"`}, Limit: 10, ScanBudget: 4 * store.RecordCost}
	var got []string
	pages, short := 0, 0
	for ; ; pages++ {
		page, err := s.ListRecords(ctx, "p1", q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) < q.Limit && page.NextCursor != "" {
			short++
		}
		for _, r := range page.Records {
			got = append(got, r.ID)
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" || pages > 50 {
			break
		}
	}
	var want []string
	for i := 18; i >= 3; i -= 3 {
		want = append(want, storetest.TraceHex(i))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if short == 0 || pages < 5 {
		t.Fatalf("%d pages, %d ended early by the budget; want 20 rows read 4 at a time", pages+1, short)
	}
}
