package bboltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

func openTemp(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.TempDir(), zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTemp)
}

func TestReopen_DataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSpans(context.Background(), storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.GetRecord(context.Background(), "p1", storetest.TraceHex(1))
	if err != nil || r.SpanCount != 4 || r.Usage.Total != 139 {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
	// Folding continues correctly from the persisted assembly state.
	late := storetest.MakeSpans(t, "p1", storetest.SpanSpec{Trace: 1, ID: 7, Parent: 1, Name: "late", StartMS: -500, EndMS: 10})
	if err := s.WriteSpans(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	r, _ = s.GetRecord(context.Background(), "p1", storetest.TraceHex(1))
	if r.Name != "capital_quiz.workflow" || r.DurationMS != 2833 || r.Input != "What is the capital of France?" {
		t.Fatalf("late span after reopen: name=%q duration=%v input=%q", r.Name, r.DurationMS, r.Input)
	}
}

func TestOpen_LockedFileSaysWhy(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, zap.NewNop(), Options{})
	if err == nil || !strings.Contains(err.Error(), "another tracehound") {
		t.Fatalf("second open: %v, want a lock error naming the cause", err)
	}
}

func TestWriteSpans_AfterCloseFails(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.WriteSpans(context.Background(), storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)); err != store.ErrClosed {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
}

func writeTraces(t *testing.T, s *Store, from, n int, startMS int64) {
	t.Helper()
	var spans []store.Span
	for i := from; i < from+n; i++ {
		spans = append(spans, storetest.MakeSpans(t, "p1", storetest.AgentTrace(i, startMS+int64(i))...)...)
	}
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, s store.Store, f store.Filter) int {
	t.Helper()
	n := 0
	if err := store.Each(context.Background(), s, "p1", store.Query{Filter: f}, func(*store.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnforceRetention_ByAgeShrinksTheFile(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	// 1500 old traces, 100 recent ones (AgentTrace starts at storetest's base + startMS).
	writeTraces(t, s, 1, 1500, old.Sub(base).Milliseconds())
	writeTraces(t, s, 2000, 100, 0)
	res, err := s.EnforceRetention(context.Background(), Retention{MaxAge: 720 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeletedByAge != 1500 || !res.Compacted || res.After.FileBytes >= res.Before.FileBytes/2 {
		t.Fatalf("retention: %+v", res)
	}
	if n := count(t, s, store.Filter{}); n != 100 {
		t.Fatalf("%d records left, want 100", n)
	}
	if n := count(t, s, store.Filter{Text: "capital"}); n != 100 {
		t.Fatalf("search after compaction finds %d, want 100", n)
	}
	// The swapped-in file takes writes and keeps doc numbering going.
	writeTraces(t, s, 5000, 3, 0)
	if n := count(t, s, store.Filter{Text: "paris"}); n != 103 {
		t.Fatalf("after writing to the compacted file: %d, want 103", n)
	}
}

func TestEnforceRetention_BySizeDeletesOldestFirst(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 10; i++ {
		writeTraces(t, s, 1+i*300, 300, int64(i)*3600_000)
	}
	before, _ := s.Size()
	limit := before.InUse() / 2
	res, err := s.EnforceRetention(context.Background(), Retention{MaxBytes: limit}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.DeletedBySize == 0 || res.After.InUse() > limit {
		t.Fatalf("size retention: %+v (limit %d)", res, limit)
	}
	// The newest trace survives; the oldest is gone.
	if _, err := s.GetRecord(context.Background(), "p1", storetest.TraceHex(3000)); err != nil {
		t.Fatalf("newest record deleted: %v", err)
	}
	if _, err := s.GetRecord(context.Background(), "p1", storetest.TraceHex(1)); err != store.ErrNotFound {
		t.Fatalf("oldest record kept: %v", err)
	}
}

func TestCompact_WhileWritersAndReadersRun(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeTraces(t, s, 1, 500, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	written := make(chan int, 1)
	wg.Add(2)
	batches := make([][]store.Span, 200)
	for i := range batches {
		batches[i] = storetest.MakeSpans(t, "p1", storetest.AgentTrace(1000+i, 0)...)
	}
	go func() {
		defer wg.Done()
		n := 0
		for _, b := range batches {
			if ctx.Err() != nil {
				break
			}
			if err := s.WriteSpans(context.Background(), b); err != nil {
				t.Errorf("write during compaction: %v", err)
				break
			}
			n++
		}
		written <- n
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if _, err := s.ListRecords(context.Background(), "p1", store.Query{Filter: store.Filter{Text: "france"}}); err != nil {
				t.Errorf("read during compaction: %v", err)
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		if err := s.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if n, want := count(t, s, store.Filter{}), 500+<-written; n != want {
		t.Fatalf("%d records after compactions under load, want %d", n, want)
	}
}

// A file made before the default page size grew keeps its 4 KiB pages until compaction
// copies it into a new file, which gets the default.
func TestOpen_PageSizeOfNewFilesOnly(t *testing.T) {
	pageSize := func(s *Store) int { return s.db.Info().PageSize }
	want := max(defaultPageSize, os.Getpagesize())
	ctx := context.Background()
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageSize(s); got != want {
		t.Errorf("new file: page size %d, want %d", got, want)
	}
	_ = s.Close()

	dir := t.TempDir()
	if s, err = Open(dir, zap.NewNop(), Options{NoSync: true, PageSize: 4096}); err != nil {
		t.Fatal(err)
	}
	writeTraces(t, s, 1, 50, 0)
	_ = s.Close()
	if s, err = Open(dir, zap.NewNop(), Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := pageSize(s); got != 4096 {
		t.Fatalf("reopened 4 KiB file: page size %d", got)
	}
	writeTraces(t, s, 51, 50, 0)
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pageSize(s); got != want {
		t.Errorf("after compaction: page size %d, want %d", got, want)
	}
	if n := count(t, s, store.Filter{}); n != 100 {
		t.Fatalf("%d records after reopen and compaction, want 100", n)
	}
	if n := count(t, s, store.Filter{Text: "france"}); n != 100 {
		t.Fatalf("text search after compaction: %d records, want 100", n)
	}
}

// storeEditedAfterClose writes 20 traces to a new store, closes it, changes its file with edit
// (to make what an earlier layout wrote) and returns its directory.
func storeEditedAfterClose(t *testing.T, opts Options, edit func(tx *bolt.Tx) error) string {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	writeTraces(t, s, 1, 20, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(edit)
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// toTraceKeys puts a store's records and spans back under trace keys, as schemas 1 to 4 kept
// them, with no traces map.
func toTraceKeys(tx *bolt.Tx) error {
	recs, spans := tx.Bucket(bucketRecords), tx.Bucket(bucketSpans)
	type kv struct{ k, v []byte }
	var oldRecs, oldSpans []kv
	if err := recs.ForEach(func(k, v []byte) error {
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		pp, _ := keyProject(k)
		var tid [16]byte
		hexDecode(tid[:], r.TraceID)
		tk := cat(pp, tid[:])
		oldRecs = append(oldRecs, kv{tk, bytes.Clone(v)})
		c := spans.Cursor()
		for sk, sv := c.Seek(k); sk != nil && bytes.HasPrefix(sk, k); sk, sv = c.Next() {
			oldSpans = append(oldSpans, kv{cat(tk, sk[len(k):]), bytes.Clone(sv)})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketRecords, bucketSpans, bucketTraces} {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	recs, _ = tx.CreateBucket(bucketRecords)
	spans, _ = tx.CreateBucket(bucketSpans)
	for _, e := range oldRecs {
		if err := recs.Put(e.k, e.v); err != nil {
			return err
		}
	}
	for _, e := range oldSpans {
		if err := spans.Put(e.k, e.v); err != nil {
			return err
		}
	}
	// Index entries logged but not merged yet: drop those of the traces map.
	pending := tx.Bucket(bucketPending)
	var logs []kv
	if err := pending.ForEach(func(k, v []byte) error {
		var b []byte
		err := decodePendingOps(v, func(key string, op stagedEntry) {
			if key[0] != deltaTrace {
				b = appendPendingOp(b, key, op.val, op.del)
			}
		})
		logs = append(logs, kv{bytes.Clone(k), b})
		return err
	}); err != nil {
		return err
	}
	for _, e := range logs {
		if err := pending.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// A store of schema 4 kept records and spans under trace keys: Open moves them to doc keys,
// a few records per transaction, and every read and write finds them there.
func TestOpen_MigratesSchema4ToDocKeys(t *testing.T) {
	defer func(n int) { rekeyBatch = n }(rekeyBatch)
	rekeyBatch = 3
	dir := storeEditedAfterClose(t, Options{NoSync: true}, func(tx *bolt.Tx) error {
		if err := toTraceKeys(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("4"))
	})
	s, err := Open(dir, zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.view(func(tx *bolt.Tx) error {
		n := 0
		err := tx.Bucket(bucketRecords).ForEach(func(k, _ []byte) error {
			if pp, _ := keyProject(k); len(k) != len(pp)+8 {
				t.Errorf("record key %x is not a doc key", k)
			}
			n++
			return nil
		})
		if n != 20 || tx.Bucket(bucketTraces).Stats().KeyN != 20 {
			t.Errorf("%d records and %d traces after migration, want 20", n, tx.Bucket(bucketTraces).Stats().KeyN)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 20; i++ {
		spans, err := s.GetSpans(ctx, "p1", storetest.TraceHex(i))
		if want := len(storetest.AgentTrace(i, 0)); err != nil || len(spans) != want {
			t.Fatalf("trace %d after migration: %d spans, %v", i, len(spans), err)
		}
	}
	if n := count(t, s, store.Filter{Text: "paris", RunID: "batch-job-123"}); n != 20 {
		t.Fatalf("after migration, search and filters find %d records, want 20", n)
	}
	// A late span of a migrated trace joins its record; a new trace gets one of its own.
	writeTraces(t, s, 15, 10, 0)
	if n := count(t, s, store.Filter{}); n != 24 {
		t.Fatalf("%d records after writing traces 15–24 again, want 24", n)
	}
	if err := s.PutScore(ctx, "p1", storetest.TraceHex(2), "quality", store.Score{Value: 0.5}); err != nil {
		t.Fatalf("score a migrated record: %v", err)
	}
	if n, err := s.DeleteBefore(ctx, time.Now().Add(time.Hour)); err != nil || n != 24 {
		t.Fatalf("retention deleted %d records, %v; want 24", n, err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketSpans, bucketTraces, bucketDocs} {
			if n := tx.Bucket(b).Stats().KeyN; n != 0 {
				t.Errorf("%s keeps %d keys after every record was deleted", b, n)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_MigratesSchema1ByBuildingIndexes(t *testing.T) {
	// Turn the file into what schema 1 wrote: records and a bare time index only.
	dir := storeEditedAfterClose(t, Options{NoSync: true}, func(tx *bolt.Tx) error {
		if err := toTraceKeys(tx); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketEq, bucketSort, bucketText, bucketDocs, bucketRuns, bucketObjects} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		bt := tx.Bucket(bucketByTime)
		var keys [][]byte
		_ = bt.ForEach(func(k, _ []byte) error { keys = append(keys, append([]byte{}, k...)); return nil })
		for _, k := range keys {
			if err := bt.Put(k, nil); err != nil {
				return err
			}
		}
		recs := tx.Bucket(bucketRecords)
		var rks [][]byte
		_ = recs.ForEach(func(k, _ []byte) error { rks = append(rks, append([]byte{}, k...)); return nil })
		for _, k := range rks {
			r, err := decodeRecord(recs.Get(k))
			if err != nil {
				return err
			}
			r.Assembly.DocID = 0
			v, _ := encodeRecord(r)
			if err := recs.Put(k, v); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Delete(keyTextMark); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	s, err := Open(dir, zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.text.Load().len(); n != 0 {
		t.Fatalf("%d postings in the text buffer after the migration built idx_text", n)
	}
	if n := count(t, s, store.Filter{Text: "paris", RunID: "batch-job-123", Status: store.StatusOK}); n != 20 {
		t.Fatalf("after migration, search and filters find %d records, want 20", n)
	}
	run, err := s.GetRun(context.Background(), "p1", "batch-job-123")
	if err != nil || run.RecordCount != 20 {
		t.Fatalf("run after migration: %+v, %v", run, err)
	}
}

// A store of schema 3 held every text posting in idx_text: it opens with its mark at its
// last doc, so nothing is rebuilt and search finds its records; new records go through the
// text buffer.
func TestOpen_MigratesSchema3WithEveryPostingInTheBucket(t *testing.T) {
	dir := storeEditedAfterClose(t, Options{NoSync: true, TextFlushPostings: 1}, func(tx *bolt.Tx) error {
		if err := toTraceKeys(tx); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keyTextMark); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("3"))
	})
	s, err := Open(dir, zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.text.Load().len(); n != 0 {
		t.Fatalf("%d postings rebuilt into the text buffer: the schema 3 store had them all in idx_text", n)
	}
	if s.textMark < 20 {
		t.Fatalf("text mark %d after migration, want at least the 20 records' docs", s.textMark)
	}
	writeTraces(t, s, 21, 5, 0)
	if n := s.text.Load().len(); n == 0 {
		t.Fatal("new records' postings did not go to the text buffer")
	}
	if n := count(t, s, store.Filter{Text: "paris"}); n != 25 {
		t.Fatalf("search finds %d records, want 25", n)
	}
}

func TestCompression_ReadsUncompressedValues(t *testing.T) {
	raw := storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)[0].Raw
	for _, v := range [][]byte{raw, compress(raw)} {
		got, err := decompress(v)
		if err != nil || string(got) != string(raw) {
			t.Fatalf("decompress(%x…) = %d bytes, %v", v[:4], len(got), err)
		}
	}
	rec := store.NewRecord("p1", storetest.TraceHex(1))
	rec.Input = strings.Repeat("capital of France ", 50)
	plain, _ := json.Marshal(storedRecord{Record: rec, Asm: &rec.Assembly})
	packed, _ := encodeRecord(rec)
	if len(packed) >= len(plain)/2 {
		t.Errorf("compressed record %d bytes, plain %d", len(packed), len(plain))
	}
	for _, v := range [][]byte{plain, packed} {
		if r, err := decodeRecord(v); err != nil || r.Input != rec.Input {
			t.Fatalf("decodeRecord: %v", err)
		}
	}
}

func TestScanBudget_EndsPagesEarlyWithACursor(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeTraces(t, s, 1, 50, 0)
	// Every record has "capital" and "france" but none has the phrase "france capital":
	// the scan has to examine every record.
	q := store.Query{Filter: store.Filter{Text: `"france capital"`}, ScanBudget: 10 * store.RecordCost}
	pages := 0
	for {
		page, err := s.ListRecords(context.Background(), "p1", q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 0 {
			t.Fatalf("phrase matched %d records", len(page.Records))
		}
		pages++
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if pages < 5 {
		t.Fatalf("50 candidates with a budget of about 10 took %d pages, want at least 5", pages)
	}
}

// A word in every record must not become one posting list that every write rewrites whole:
// the lists are chunked, and no chunk grows past twice the chunk size.
func TestTextIndex_PostingChunksStayBounded(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for from := 1; from <= 3000; from += 250 {
		writeTraces(t, s, from, 250, 0)
	}
	chunks, longest := 0, 0
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketText).ForEach(func(k, v []byte) error {
			chunks++
			longest = max(longest, len(decodePostings(v)))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if longest > 2*postingChunkIDs {
		t.Fatalf("longest posting chunk has %d IDs, want at most %d", longest, 2*postingChunkIDs)
	}
	if got := count(t, s, store.Filter{Text: "capital"}); got != 3000 {
		t.Fatalf("search over chunked lists finds %d records, want 3000", got)
	}
	t.Logf("%d chunks, longest %d IDs", chunks, longest)
}

// A store written before posting lists were chunked has one list per token and hour at the
// open chunk's key, however long. It is read as it is and chunked as it is written to.
func TestTextIndex_UnchunkedListsFromOlderVersions(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	writeTraces(t, s, 1, 700, 0)
	// Rewrite the index the way older versions kept it: each sealed chunk merged into its
	// token's single list.
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketText)
		lists := map[string][]uint64{}
		var sealed [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			head := k
			if len(k) > 9 && k[len(k)-9] == 0 {
				head = k[:len(k)-9]
				sealed = append(sealed, append([]byte{}, k...))
			}
			lists[string(head)] = append(lists[string(head)], decodePostings(v)...)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range sealed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for k, ids := range lists {
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			if err := b.Put([]byte(k), encodePostings(ids)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, zap.NewNop(), Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := count(t, s, store.Filter{Text: "capital"}); got != 700 {
		t.Fatalf("old single lists: search finds %d records, want 700", got)
	}
	writeTraces(t, s, 701, 300, 0)
	// Records 1–350 (starts 1–350 ms after storetest's base time) go, from old and new chunks.
	cutoff := time.Date(2026, 11, 25, 12, 0, 0, 351e6, time.UTC)
	if n, err := s.DeleteBefore(context.Background(), cutoff); err != nil || n != 350 {
		t.Fatalf("DeleteBefore = %d, %v; want 350", n, err)
	}
	longest := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketText).ForEach(func(_, v []byte) error {
			longest = max(longest, len(decodePostings(v)))
			return nil
		})
	})
	if longest > 2*postingChunkIDs {
		t.Errorf("after new writes the longest list has %d IDs, want it chunked", longest)
	}
	if got := count(t, s, store.Filter{Text: "capital"}); got != 650 {
		t.Fatalf("after new writes and deletes: search finds %d records, want 650", got)
	}
}

// BenchmarkWriteSpans_SpanBySpan writes 4-span traces one span per request, as unbatched SDKs
// send them: every request after a trace's first finds its record already stored.
func BenchmarkWriteSpans_SpanBySpan(b *testing.B) {
	s, err := Open(b.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var spans []store.Span
	for i := 0; i < b.N; i++ {
		spans = append(spans, storetest.MakeSpans(b, "p1", storetest.AgentTrace(i+1, int64(i))...)...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range spans {
		if err := s.WriteSpans(context.Background(), spans[i:i+1]); err != nil {
			b.Fatal(err)
		}
	}
}

// An hour with more matching records than a page's scan budget covers is listed in full, page
// by page: resolving the hour's postings must leave each page budget to examine records.
func TestSearch_ListsAnHourWithMoreMatchesThanTheBudget(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 25_000 // > 2 × DefaultScanBudget, all in one hour
	for i := 0; i < n; i += 500 {
		var spans []store.Span
		for j := i; j < i+500; j++ {
			spans = append(spans, storetest.MakeSpans(t, "p1", storetest.SpanSpec{
				Trace: 1 + j, ID: 1, Name: "chat", StartMS: int64(j) / 10, EndMS: int64(j)/10 + 5,
				Attrs: map[string]any{llmschema.LLMCall: true, llmschema.Input: "kestrel sighting"}})...)
		}
		if err := s.WriteSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
	}
	for _, asc := range []bool{false, true} {
		seen, pages, cursor := map[string]bool{}, 0, ""
		for {
			p, err := s.ListRecords(context.Background(), "p1", store.Query{Limit: 1000, Cursor: cursor,
				Filter: store.Filter{Text: "kestrel"}, Sort: store.Sort{Field: store.SortTime, Asc: asc}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Records {
				seen[r.ID] = true
			}
			if pages++; p.NextCursor == "" || pages > n/50 {
				break
			}
			cursor = p.NextCursor
		}
		if len(seen) != n {
			t.Fatalf("ascending %v: %d pages listed %d of %d records", asc, pages, len(seen), n)
		}
	}
}
