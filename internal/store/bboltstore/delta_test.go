package bboltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// The conformance suite again, with the index delta merged and the text buffer flushed after
// every commit: every query then reads entries from the buckets, where the default store
// reads them from the delta and the buffer.
func TestConformance_MergingAfterEveryCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: 1, TextFlushPostings: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// indexEntries is what readers see of the equality, sort and text indexes and the traces map: each bucket's
// entries with the delta's laid over them, by bucket byte | key. A text posting is listed
// as "t" | head | 0 | doc, wherever it is: in a posting chunk or in a text buffer.
func indexEntries(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	v, tv := s.deltaView(), s.textView()
	err := s.view(func(tx *bolt.Tx) error {
		for id, name := range map[byte][]byte{deltaEq: bucketEq, deltaSort: bucketSort, deltaTrace: bucketTraces} {
			if err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				out[string(id)+string(k)] = string(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketText).ForEach(func(k, v []byte) error {
			// pp | hour | token, then 0 | bound for a sealed chunk.
			head := k
			if pp, ok := keyProject(k); ok && len(k) > len(pp)+4 {
				if i := bytes.IndexByte(k[len(pp)+4:], 0); i >= 0 {
					head = k[:len(pp)+4+i]
				}
			}
			for _, doc := range decodePostings(v) {
				out[textEntry(head, doc)] = ""
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*indexDelta{v.merging, v.newer} {
		if d == nil {
			continue
		}
		d.mu.RLock()
		n := 0
		for part, tr := range d.parts {
			tr.Ascend(func(e deltaEntry) bool {
				out[part+string(e.p[:e.n])] = e.val()
				n++
				return true
			})
		}
		for k, v := range d.traces {
			out[k] = v
			n++
		}
		if n != d.n {
			t.Errorf("delta counts %d entries, holds %d", d.n, n)
		}
		d.mu.RUnlock()
	}
	for _, b := range tv.buffers() {
		if b == nil {
			continue
		}
		b.mu.RLock()
		for head, l := range b.lists {
			for _, doc := range l.ids {
				out[textEntry([]byte(head), doc)] = ""
			}
		}
		b.mu.RUnlock()
	}
	return out
}

func textEntry(head []byte, doc uint64) string {
	return "t" + string(sealedKey(head, doc))
}

func pendingCount(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPending).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// deltaWorkload writes traces over several hours with varied users, models, durations,
// costs, tokens and texts, then late spans that move records in every index (a new start in
// another hour, a longer duration, more cost, new text), scores, and a retention pass, in
// batches of requests.
func deltaWorkload(t *testing.T, stores ...*Store) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	ctx := context.Background()
	write := func(spans []store.Span) {
		for _, s := range stores {
			if err := s.WriteSpans(ctx, spans); err != nil {
				t.Fatal(err)
			}
		}
	}
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4"}
	countries := []string{"France", "Spain", "Peru", "Japan", "Kenya"}
	const spacingMS = 40_000 // between traces: the workload spans several hours
	trace := func(i int, startMS int64) []storetest.SpanSpec {
		dur := int64(100 + rng.Intn(5000))
		return []storetest.SpanSpec{
			{Trace: i, ID: 1, Name: "workflow", StartMS: startMS, EndMS: startMS + dur, Attrs: map[string]any{
				llmschema.UserID: fmt.Sprintf("user-%d", rng.Intn(9)), llmschema.SessionID: fmt.Sprintf("sess-%d", rng.Intn(40)),
				llmschema.RunID: fmt.Sprintf("run-%d", i%3),
			}},
			{Trace: i, ID: 2, Parent: 1, Name: "chat", StartMS: startMS + 1, EndMS: startMS + dur - 1, Attrs: map[string]any{
				llmschema.LLMCall: true, llmschema.RequestModel: models[rng.Intn(len(models))],
				llmschema.UsageInputTokens: rng.Intn(4000), llmschema.UsageOutputTokens: rng.Intn(900),
				llmschema.CostUSD: rng.Float64() / 100, llmschema.Input: "capital of " + countries[rng.Intn(len(countries))] + "?",
				llmschema.Output: fmt.Sprintf("answer w%d", rng.Intn(30)),
			}},
		}
	}
	next := 1
	for batch := 0; batch < 30; batch++ {
		var spans []store.Span
		for range 1 + rng.Intn(12) {
			spans = append(spans, storetest.MakeSpans(t, "p1", trace(next, int64(next)*spacingMS)...)...)
			next++
		}
		// Late spans for earlier traces: some start before their record, some end after it.
		for range rng.Intn(4) {
			old := 1 + rng.Intn(next-1)
			// Up to 50 minutes earlier: records move to other hours of the text index.
			startMS := int64(old)*spacingMS + int64(rng.Intn(4_000_000)) - 3_000_000
			spans = append(spans, storetest.MakeSpans(t, "p1", storetest.SpanSpec{
				Trace: old, ID: 10 + batch, Parent: 1, Name: "late", StartMS: startMS, EndMS: startMS + int64(rng.Intn(9000)),
				Attrs: map[string]any{llmschema.LLMCall: true, llmschema.RequestModel: models[rng.Intn(len(models))],
					llmschema.CostUSD: rng.Float64() / 10, llmschema.UsageOutputTokens: rng.Intn(500),
					// A late LLM call that starts first gives its record new text.
					llmschema.Input: "late question about " + countries[rng.Intn(len(countries))], llmschema.Output: fmt.Sprintf("late w%d", rng.Intn(30))},
			})...)
		}
		write(spans)
		if batch%7 == 3 {
			for _, s := range stores {
				if err := s.PutScore(ctx, "p1", storetest.TraceHex(1+batch), "accuracy", store.Score{Value: 0.5}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Retention drops the records of the first 20 seconds.
	first, err := stores[0].GetRecord(ctx, "p1", storetest.TraceHex(1))
	if err != nil {
		t.Fatal(err)
	}
	cutoff := time.Unix(0, first.Assembly.StartNanos).Add(20 * spacingMS * time.Millisecond)
	for _, s := range stores {
		if n, err := s.DeleteBefore(ctx, cutoff); err != nil || n < 10 {
			t.Fatalf("retention deleted %d records: %v", n, err)
		}
	}
	for batch := 0; batch < 25; batch++ { // hours that only the delta has postings for
		var spans []store.Span
		for range 1 + rng.Intn(12) {
			spans = append(spans, storetest.MakeSpans(t, "p1", trace(next, int64(next)*spacingMS)...)...)
			next++
		}
		write(spans)
	}
}

func diffEntries(want, got map[string]string) string {
	var b strings.Builder
	for k, v := range want {
		if g, ok := got[k]; !ok {
			fmt.Fprintf(&b, "missing %q\n", k)
		} else if g != v {
			fmt.Fprintf(&b, "%q = %x, want %x\n", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "extra %q\n", k)
		}
	}
	return b.String()
}

// Indexes kept in the delta, merged now and then, or merged after every commit end up
// with the same entries, before and after a restart, and list the same records.
func TestIndexDelta_SameIndexesAsMergingEveryCommit(t *testing.T) {
	defer func(n int) { mergeChunkEntries = n }(mergeChunkEntries)
	mergeChunkEntries = 13 // merges of several transactions
	open := func(dir string, merge int) *Store {
		s, err := Open(dir, zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: merge, TextFlushPostings: merge})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	every := open(t.TempDir(), 1)
	defer every.Close()
	deltaDir := t.TempDir()
	never := open(deltaDir, 1<<30)
	someDir := t.TempDir()
	some := open(someDir, 40)
	deltaWorkload(t, every, never, some)

	// A merge follows the commit whose acknowledgement the writes waited for; a function
	// run on the writer goroutine waits for it.
	for _, s := range []*Store{every, never, some} {
		if err := s.exec(context.Background(), func(*Store) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// The reference reads everything from the buckets: its merges may have fallen behind.
	if err := every.exec(context.Background(), func(s *Store) error {
		if err := s.mergeAll(); err != nil {
			return err
		}
		return s.flushText()
	}); err != nil {
		t.Fatal(err)
	}
	want := indexEntries(t, every)
	if len(want) < 100 {
		t.Fatalf("only %d index entries: the workload is too small to test anything", len(want))
	}
	if n := never.delta.Load().len(); n < 100 {
		t.Fatalf("the unmerged store holds only %d entries in its delta", n)
	}
	if h, ok := never.text.Load().hour(projectPrefix("p1"), math.MaxUint32, true); !ok {
		t.Fatal("no text postings in the unflushed store's text buffer")
	} else if err := never.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketText).Cursor().Seek(textKey(projectPrefix("p1"), h, "")); k != nil {
			t.Fatalf("the unflushed store's bucket has postings of its buffer's latest hour %d: hours found only in the buffer go untested", h)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Store{"never merged": never, "merged at 40 entries": some} {
		if d := diffEntries(want, indexEntries(t, s)); d != "" {
			t.Errorf("%s: index entries differ from merging every commit:\n%s", name, d)
		}
	}
	queries := []store.Query{
		{Sort: store.Sort{Field: store.SortDuration}},
		{Sort: store.Sort{Field: store.SortCost, Asc: true}},
		{Sort: store.Sort{Field: store.SortTokens}, Filter: store.Filter{Model: "gpt-4o"}},
		{Filter: store.Filter{UserID: "user-3"}},
		{Filter: store.Filter{SessionID: "sess-7", Model: "claude-sonnet-4"}},
		{Filter: store.Filter{RunID: "run-1"}, Sort: store.Sort{Field: store.SortTime, Asc: true}},
		{Filter: store.Filter{Text: "capital peru"}},
		{Filter: store.Filter{Text: "late"}, Sort: store.Sort{Field: store.SortTime, Asc: true}},
		{Filter: store.Filter{Text: "w7 japan"}, Sort: store.Sort{Field: store.SortCost}},
		{Filter: store.Filter{Text: "question", UserID: "user-2"}},
	}
	listAll := func(s *Store, q store.Query) string {
		q.Limit = 7 // several pages each
		var ids []string
		if err := store.Each(context.Background(), s, "p1", q, func(r *store.Record) error {
			ids = append(ids, strings.TrimLeft(r.ID, "0"))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(ids, " ")
	}
	compare := func(stage string, s *Store) {
		t.Helper()
		for _, q := range queries {
			if w, g := listAll(every, q), listAll(s, q); w != g {
				t.Errorf("%s: %+v lists\n%s\nwant\n%s", stage, q, g, w)
			}
		}
	}
	hours := map[uint32]bool{}
	for k := range want {
		if k[0] == 't' {
			hours[binary.BigEndian.Uint32([]byte(k[1+2+2:]))] = true // after 't' and the prefix of "p1"
		}
	}
	if len(hours) < 3 {
		t.Fatalf("text postings in %d hours: the workload should span several", len(hours))
	}
	for _, q := range queries {
		if listAll(every, q) == "" {
			t.Fatalf("%+v lists nothing: it would compare nothing", q)
		}
	}
	compare("never merged", never)
	compare("merged at 40 entries", some)

	// A restart replays idx_pending and rebuilds the text buffer from the records above the
	// mark; for the store that flushed now and then, that includes records whose text
	// changed after their doc fell below the mark.
	if err := never.Close(); err != nil {
		t.Fatal(err)
	}
	never = open(deltaDir, 1<<30)
	defer never.Close()
	if err := some.Close(); err != nil {
		t.Fatal(err)
	}
	some = open(someDir, 40)
	defer some.Close()
	for name, s := range map[string]*Store{"never merged": never, "merged at 40 entries": some} {
		if d := diffEntries(want, indexEntries(t, s)); d != "" {
			t.Errorf("%s, after a restart: index entries differ:\n%s", name, d)
		}
		compare(name+", after a restart", s)
	}

	// A merge moves everything into the buckets and empties idx_pending.
	if pendingCount(t, never) == 0 {
		t.Fatal("nothing in idx_pending before the merge")
	}
	if never.text.Load().len() == 0 {
		t.Fatal("nothing in the text buffer before the flush")
	}
	for _, s := range []*Store{never, every} {
		if err := s.exec(context.Background(), func(s *Store) error {
			if err := s.mergeAll(); err != nil {
				return err
			}
			return s.flushText()
		}); err != nil {
			t.Fatal(err)
		}
		if n, m := s.delta.Load().len(), s.merging.Load(); n != 0 || m != nil {
			t.Fatalf("%d entries left in the delta after a merge, merging %v", n, m)
		}
		if n := s.text.Load().len(); n != 0 {
			t.Fatalf("%d postings left in the text buffer after a flush", n)
		}
	}
	if d := diffEntries(want, indexEntries(t, every)); d != "" {
		t.Errorf("merging after every commit, then all: index entries changed:\n%s", d)
	}
	if n := pendingCount(t, never); n != 0 {
		t.Fatalf("%d values left in idx_pending after a merge", n)
	}
	if d := diffEntries(want, indexEntries(t, never)); d != "" {
		t.Errorf("after a merge: index entries differ:\n%s", d)
	}
	compare("after a merge", never)
}

func TestPendingOps_RoundTripAndRefuseDamage(t *testing.T) {
	ops := map[string]stagedEntry{
		"e\x00\x02p1status\x00ok": {},
		"s\x00\x02p1d12345678":    {val: "\x00\x01\x02\x03\x04\x05\x06\x07"},
		"e\x00\x02p1gone":         {del: true},
	}
	var b []byte
	for k, op := range ops {
		b = appendPendingOp(b, k, op.val, op.del)
	}
	got := map[string]stagedEntry{}
	if err := decodePendingOps(b, func(k string, op stagedEntry) { got[k] = op }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(ops) {
		t.Fatalf("decoded %v, want %v", got, ops)
	}
	for cut := 1; cut < len(b); cut++ {
		n := 0
		err := decodePendingOps(b[:cut], func(string, stagedEntry) { n++ })
		if err == nil && n == len(ops) {
			t.Fatalf("a value cut at %d of %d bytes decoded whole", cut, len(b))
		}
	}
	for _, bad := range [][]byte{{2, 1, 'e'}, {0, 1, 'x', 0}, {0, 200}} {
		if err := decodePendingOps(bad, func(string, stagedEntry) {}); err == nil {
			t.Errorf("%x decoded without an error", bad)
		}
	}
}

func FuzzDecodePendingOps(f *testing.F) {
	f.Add(appendPendingOp(appendPendingOp(nil, "e\x00\x01pk", "", false), "s\x00\x01pq", "12345678", false))
	f.Add([]byte{1, 3, 'e', 'a', 'b'})
	f.Fuzz(func(t *testing.T, v []byte) {
		var again []byte
		if err := decodePendingOps(v, func(k string, op stagedEntry) { again = appendPendingOp(again, k, op.val, op.del) }); err != nil {
			return
		}
		if string(again) != string(v) {
			t.Fatalf("re-encoding %x gave %x", v, again)
		}
	})
}

// While merge cycles and text flushes run between commits, a reader finds every record whose
// write was acknowledged before its query began, through the equality, sort and text indexes.
func TestIndexDelta_ReadersMissNothingDuringMerges(t *testing.T) {
	defer func(n int) { mergeChunkEntries = n }(mergeChunkEntries)
	mergeChunkEntries = 50
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: 200, TextFlushPostings: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var acked atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 300; i++ {
			if err := s.WriteSpans(context.Background(), storetest.MakeSpans(t, "p1", storetest.AgentTrace(i, int64(i)*10)...)); err != nil {
				t.Error(err)
				return
			}
			acked.Store(int64(i))
		}
	}()
	queries := []store.Query{
		{Filter: store.Filter{UserID: "user-42"}},
		{Sort: store.Sort{Field: store.SortCost}},
		{Filter: store.Filter{Model: "gpt-4o-mini-2024-07-18"}, Sort: store.Sort{Field: store.SortDuration, Asc: true}},
		{Filter: store.Filter{Text: "capital"}},
	}
	for checks := 0; ; checks++ {
		select {
		case <-done:
			if checks < 10 {
				t.Logf("only %d checks ran during the writes", checks)
			}
			return
		default:
		}
		before := acked.Load()
		q := queries[checks%len(queries)]
		n := 0
		if err := store.Each(context.Background(), s, "p1", q, func(*store.Record) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if int64(n) < before {
			t.Fatalf("%+v found %d records after %d were acknowledged", q, n, before)
		}
	}
}

// A flush that fails leaves every buffered posting visible, to readers that took the buffers
// before, during or after it; it is not tried again at once, and the next flush writes them.
func TestTextFlush_FailureKeepsPostingsVisible(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{NoSync: true, TextFlushPostings: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeTraces(t, s, 1, 30, 0)
	buffered := s.text.Load().len()
	if buffered == 0 {
		t.Fatal("nothing in the text buffer: the test needs postings there")
	}
	before := s.textView() // taken before the flush
	var during textView
	err = s.exec(context.Background(), func(s *Store) error {
		// A closed file makes the flush's transaction fail.
		if err := s.db.Close(); err != nil {
			return err
		}
		s.opts.TextFlushPostings = 1
		ferr := s.textFlushStep()
		during = textView{newer: newTextBuffer(), flushing: s.textFlushing.Load()} // took the fresh buffer
		if again := s.textFlushStep(); again != nil {
			return fmt.Errorf("a flush was tried again right after failing: %w", again)
		}
		s.opts.TextFlushPostings = 1 << 30
		db, err := openDB(s.path, s.opts)
		if err != nil {
			return err
		}
		s.db = db
		if ferr == nil {
			return fmt.Errorf("flush on a closed file succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]textView{"before": before, "during": during, "after": s.textView()} {
		n := 0
		for _, b := range v.buffers() {
			if b != nil {
				n = max(n, b.len())
			}
		}
		if n != buffered {
			t.Errorf("a reader taking the buffers %s the failed flush sees %d postings, want %d", name, n, buffered)
		}
	}
	if c := count(t, s, store.Filter{Text: "paris"}); c != 30 {
		t.Fatalf("after the failed flush search finds %d records, want 30", c)
	}
	if err := s.exec(context.Background(), func(s *Store) error { return s.flushText() }); err != nil {
		t.Fatal(err)
	}
	if n := s.text.Load().len(); n != 0 || s.textFlushing.Load() != nil {
		t.Fatalf("after the next flush: %d postings buffered, flushing %v", n, s.textFlushing.Load())
	}
	if c := count(t, s, store.Filter{Text: "paris"}); c != 30 {
		t.Fatalf("after the next flush search finds %d records, want 30", c)
	}
}

// The delta against a map of the same operations: random puts, replacements and deletions of
// equality, sort and traces entries (and keys too short to hold a position), then every
// lookup, every seek inside a part, the count, and a merge cycle's chunks, which must give
// each entry once, in key order within each bucket.
func TestIndexDelta_SameAsAMapOfItsOperations(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	pp := projectPrefix("p1")
	prefixes := []string{
		string(deltaEq) + string(eqPrefix(pp, eqField("user", "u1"))),
		string(deltaEq) + string(eqPrefix(pp, eqField("user", "u10"))),
		string(deltaEq) + string(eqPrefix(pp, eqField("status", "ok"))),
		string(deltaSort) + string(pp) + "d",
		string(deltaSort) + string(pp) + "c",
	}
	randomKey := func() string {
		switch rng.Intn(8) {
		case 0:
			var tid [16]byte
			tid[15] = byte(rng.Intn(40))
			return string(deltaTrace) + string(traceKey("p1", tid))
		case 1:
			return string(deltaEq) + strings.Repeat("x", rng.Intn(5)) // short: no position
		}
		var p pos
		p[7], p[23] = byte(rng.Intn(6)), byte(rng.Intn(6))
		return prefixes[rng.Intn(len(prefixes))] + string(p[:])
	}
	d, want := newIndexDelta(), map[string]string{}
	for range 200 {
		ops := map[string]stagedEntry{}
		for range rng.Intn(30) {
			k := randomKey()
			if rng.Intn(3) == 0 {
				ops[k] = stagedEntry{del: true}
			} else {
				ops[k] = stagedEntry{val: fmt.Sprint(rng.Intn(1000))}
			}
		}
		d.apply(opsOf(ops))
		for k, op := range ops {
			if op.del {
				delete(want, k)
			} else {
				want[k] = op.val
			}
		}
		if d.len() != len(want) {
			t.Fatalf("len %d, want %d", d.len(), len(want))
		}
		for range 20 {
			k := randomKey()
			got, ok := d.get(k)
			if w, wok := want[k]; ok != wok || got != w {
				t.Fatalf("get(%q) = %q, %v; want %q, %v", k, got, ok, w, wok)
			}
		}
		for _, prefix := range prefixes {
			var target pos
			target[7], target[23] = byte(rng.Intn(7)), byte(rng.Intn(7))
			for _, desc := range []bool{false, true} {
				var best string
				for k := range want {
					if !strings.HasPrefix(k, prefix) || len(k) != len(prefix)+len(target) {
						continue
					}
					p := k[len(prefix):]
					if (desc && p <= string(target[:]) && p > best) || (!desc && p >= string(target[:]) && (best == "" || p < best)) {
						best = p
					}
				}
				got, ok := d.seek(prefix[0], []byte(prefix[1:]), target, desc)
				if ok != (best != "") || ok && string(got[:]) != best {
					t.Fatalf("seek %q %x desc=%v = %x, %v; want %x", prefix, target, desc, got, ok, best)
				}
			}
		}
	}
	// A merge cycle over the delta, in chunks of 7.
	c := newMergeCycle(d, 0)
	merged := map[string]string{}
	last := map[byte]string{}
	for done := false; !done; {
		var chunk []mergeItem
		chunk, c.at, done = c.nextChunk(d, 7)
		if len(chunk) > 7 || !done && len(chunk) == 0 {
			t.Fatalf("chunk of %d entries, done=%v", len(chunk), done)
		}
		for _, it := range chunk {
			k := string(it.id) + string(it.key)
			if _, dup := merged[k]; dup {
				t.Fatalf("%q merged twice", k)
			}
			if len(it.key) > 24 { // keys too short to hold a position come in a part of their own
				if k <= last[it.id] {
					t.Errorf("%q merged after %q", k, last[it.id])
				}
				last[it.id] = k
			}
			merged[k] = string(it.val)
		}
	}
	if diff := diffEntries(want, merged); diff != "" {
		t.Fatalf("a merge cycle's chunks differ from the delta:\n%s", diff)
	}
}

// Commits that stage more index entries than a merge chunk holds must not outrun the merge:
// the deltas stay within DeltaMergeEntries plus one commit's entries however long the load.
func TestIndexDelta_BoundedWhenCommitsOutrunAChunk(t *testing.T) {
	defer func(n int) { mergeChunkEntries = n }(mergeChunkEntries)
	mergeChunkEntries = 10
	ctx := context.Background()
	next := 1
	batch := func() []store.Span { // 20 agent traces
		var specs []storetest.SpanSpec
		for range 20 {
			specs = append(specs, storetest.AgentTrace(next, int64(next)*1000)...)
			next++
		}
		return storetest.MakeSpans(t, "p1", specs...)
	}
	// What one such commit stages, in a store that never merges.
	unmerged, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer unmerged.Close()
	if err := unmerged.WriteSpans(ctx, batch()); err != nil {
		t.Fatal(err)
	}
	perCommit := unmerged.delta.Load().len()
	if perCommit <= 2*mergeChunkEntries {
		t.Fatalf("a commit stages %d entries: the test does not outrun chunks of %d", perCommit, mergeChunkEntries)
	}

	const limit = 30
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 40 {
		if err := s.WriteSpans(ctx, batch()); err != nil {
			t.Fatal(err)
		}
		var newer, merging int
		if err := s.exec(ctx, func(s *Store) error { // after the writer's merge step
			newer = s.delta.Load().len()
			if m := s.merging.Load(); m != nil {
				merging = m.len()
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if bound := limit + perCommit; newer >= bound || merging >= bound+perCommit {
			t.Fatalf("after %d traces the deltas hold %d + %d (merging) entries; bound %d", next-1, newer, merging, bound)
		}
	}
}

// BenchmarkIndexDelta_Apply stages commits as the writer does for the benchmark corpus — 50
// new records each, with the equality entries of a few low-cardinality fields, a user and a
// session, three sort entries and a traces-map entry — and applies them to a delta that is
// replaced when it reaches the merge bound, as a merge cycle does. b.N counts entries.
func BenchmarkIndexDelta_Apply(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	pp := projectPrefix("bench")
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var commits []map[string]stagedEntry
	entries := 0
	for c := 0; entries < 400_000; c++ {
		ops := map[string]stagedEntry{}
		for r := range 50 {
			var tid [16]byte
			rng.Read(tid[:])
			at := timePosBytes(start+int64(c*50+r)*int64(time.Millisecond), tid[:])
			for _, fv := range []string{
				eqField("status", "ok"), eqField("source", "otlp"), eqField("service", fmt.Sprint("svc-", rng.Intn(3))),
				eqField("model", fmt.Sprint("model-", rng.Intn(3))), eqField("user", fmt.Sprint("user-", rng.Intn(100))),
				eqField("session", fmt.Sprint("session-", rng.Intn(5000))), eqField("meta", "env\x00prod"),
			} {
				ops[string(deltaEq)+string(cat(eqPrefix(pp, fv), at))] = stagedEntry{}
			}
			for _, id := range []byte{'d', 'c', 't'} {
				k := binary.BigEndian.AppendUint64(append(cat(pp, nil), id), orderedFloat(rng.Float64()*1000))
				ops[string(deltaSort)+string(append(k, tid[:]...))] = stagedEntry{val: string(at[:8])}
			}
			ops[string(deltaTrace)+string(traceKey("bench", tid))] = stagedEntry{val: string(encodeDoc(uint64(c*50 + r)))}
		}
		commits = append(commits, ops)
		entries += len(ops)
	}
	staged := make([][]stagedOp, len(commits))
	for i, ops := range commits {
		staged[i] = opsOf(ops)
	}
	b.ReportAllocs()
	b.ResetTimer()
	d, done := newIndexDelta(), 0
	for i := 0; done < b.N; i++ {
		ops := staged[i%len(staged)]
		if i%len(staged) == 0 || d.len() >= defaultDeltaMergeEntries {
			d = newIndexDelta()
		}
		d.apply(ops)
		done += len(ops)
	}
}

// opsOf stages the changes of a map, each key once.
func opsOf(m map[string]stagedEntry) []stagedOp {
	ops := make([]stagedOp, 0, len(m))
	for k, op := range m {
		ops = append(ops, stagedOp{key: []byte(k), val: []byte(op.val), del: op.del})
	}
	return ops
}

func TestNextMergeLimit(t *testing.T) {
	for _, tc := range []struct {
		name           string
		limit, entries int
		nodes          int64
		want           int
	}{
		{"clustered entries keep the largest chunk", mergeChunkEntries, mergeChunkEntries, 20, mergeChunkEntries},
		{"scattered entries shrink it to the node bound", mergeChunkEntries, mergeChunkEntries, 1024, mergeChunkEntries * mergeChunkNodes / 1024},
		{"at the bound it stays", 4096, 4096, mergeChunkNodes, 4096},
		{"however scattered, not below the floor", 4096, 4096, 1 << 20, mergeChunkMin},
		{"a full chunk under half the bound grows", 4096, 4096, mergeChunkNodes/2 - 1, 8192},
		{"a cycle's short last chunk does not", 4096, 100, 3, 4096},
		{"growth stops at mergeChunkEntries", mergeChunkEntries, mergeChunkEntries, 1, mergeChunkEntries},
		{"a shrunk chunk is sized by what it took", 4096, 1000, 4 * mergeChunkNodes, max(mergeChunkMin, 1000/4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextMergeLimit(tc.limit, tc.entries, tc.nodes); got != tc.want {
				t.Fatalf("nextMergeLimit(%d, %d, %d) = %d, want %d", tc.limit, tc.entries, tc.nodes, got, tc.want)
			}
		})
	}
}

// A retention check that finds nothing to delete leaves the index delta to the regular merge:
// a whole merge on the writer goroutine stalls every write meanwhile (0.7 s after a restart
// on a 3 GB store, when retention runs its first check).
func TestDeleteBefore_NothingToDeleteDoesNotMerge(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true, DeltaMergeEntries: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeTraces(t, s, 1, 50, 0)
	before := s.delta.Load().len()
	if before == 0 {
		t.Fatal("the writes staged no index entries")
	}
	n, err := s.DeleteBefore(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 0 {
		t.Fatalf("DeleteBefore: %d, %v", n, err)
	}
	if got := s.delta.Load().len(); got != before || s.merging.Load() != nil {
		t.Fatalf("index delta %d entries after a check that deleted nothing, %d before (merging: %v)", got, before, s.merging.Load() != nil)
	}
	// One that deletes merges, as before.
	if n, err := s.DeleteBefore(ctx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 50 {
		t.Fatalf("DeleteBefore: %d, %v", n, err)
	}
	if got := s.delta.Load().len(); got != 0 {
		t.Fatalf("index delta %d entries after deleting every record", got)
	}
}
