// Package bboltstore is the embedded, single-file store.Store backend. All writes go through
// one writer goroutine that commits many callers' spans in one bbolt transaction (group
// commit): a caller's WriteSpans returns only after the transaction holding its spans has
// been synced to disk. The same transaction keeps every index, the record summaries and the
// run aggregates in step with the records; equality and sort entries go to an in-memory index
// delta logged in that transaction and merged into their buckets later (delta.go), and the
// text postings of new records to an in-memory text buffer that the records themselves
// rebuild after a restart (textbuffer.go). Both are visible to readers when the commit
// returns, before any write in it is acknowledged.
package bboltstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// FileName is the name of the database file inside the configured directory.
const FileName = "tracehound.db"

// spanLogDir is the span log's directory inside the configured directory.
const spanLogDir = "spans"

// schemaVersion is the layout version written into the meta bucket. Bump it together with
// a migration in migrate when the layout changes.
//
//	1: spans, records, records_by_time
//	2: + summaries as records_by_time values, equality/sort/text indexes, docs, runs, objects
//	3: + idx_pending, equality and sort entries not yet merged into their buckets (a store
//	   of schema 2 would not read them)
//	4: + meta text_flushed: text postings of records above it are not in idx_text yet, but
//	   rebuilt from the records on open (a store of schema 3 would not find them)
//	5: records and spans keyed by doc number instead of trace ID, + traces (trace → doc),
//	   whose newest entries are in idx_pending
//	6: span bodies in the span log (dir/spans, see spanlog.go), the spans bucket holding
//	   pointers to them, + span_log (live bytes per segment); older inline values still read
//	7: spans compressed in blocks (spanblock.go), pointed at by spanBlockMarker values that
//	   a store of schema 6 would not read; its pointers still read
const schemaVersion = 7

// Buckets. Every key in every bucket but meta starts with the project prefix (see keys.go).
var (
	bucketMeta    = []byte("meta")
	bucketSpans   = []byte("spans")
	bucketRecords = []byte("records")
	bucketTraces  = []byte("traces")
	bucketByTime  = []byte("records_by_time")
	bucketEq      = []byte("idx_eq")
	bucketSort    = []byte("idx_sort")
	bucketText    = []byte("idx_text")
	bucketDocs    = []byte("docs")
	bucketRuns    = []byte("runs")
	bucketObjects = []byte("objects")
	keySchema     = []byte("schema_version")
	allBuckets    = [][]byte{bucketSpans, bucketRecords, bucketTraces, bucketByTime, bucketEq, bucketSort, bucketText, bucketDocs, bucketRuns, bucketObjects, bucketPending, bucketSpanLog}
)

// Options tune the store.
type Options struct {
	// MaxBatchSpans caps how many spans one transaction commits.
	MaxBatchSpans int
	// QueueSize caps how many WriteSpans calls may wait for the writer.
	QueueSize int
	// NoSync skips fsync on commit. Only for tests and benchmarks: acknowledged data may be
	// lost on a crash.
	NoSync bool
	// DeltaMergeEntries is how many equality and sort entries collect in memory before they
	// are merged into their buckets (see delta.go).
	DeltaMergeEntries int
	// TextFlushPostings is how many text postings of new records collect in memory before
	// they are written into the text index (see textbuffer.go).
	TextFlushPostings int
	// PageSize is the page size of a file the store creates, compaction's copy included; a
	// file that exists keeps the size it was made with. 0 means defaultPageSize, or the OS page
	// size where that is larger.
	PageSize int
	// SpanLogSegmentBytes is the size past which the span log starts a new segment file (see
	// spanlog.go); 0 means defaultSpanLogSegmentBytes.
	SpanLogSegmentBytes int64
	// SpanLogCacheBytes is how many of the span log's newest bytes stay in the page cache;
	// older ones are dropped from it (see spanlog.go). 0 means defaultSpanLogCacheBytes, a
	// negative number none.
	SpanLogCacheBytes int64
}

// defaultPageSize is four times the usual OS page. bbolt writes each dirty page of a commit
// with a pwrite call of its own, and on the benchmark machine a call costs about the same
// whether it writes 4 or 64 KiB (26 against 30 µs at random offsets of a 1 GiB file; more in
// larger files), so larger pages mean fewer calls. Records and spans are appended (keyed by
// doc number) and the randomly keyed entries are merged into pages in batches (delta.go), so
// larger pages no longer mean a large page rewritten per trace: against 8 KiB, 16 KiB pages
// wrote 8% fewer bytes per span and used ~2% less CPU at 64 senders (docs/benchmarks.md,
// eighth round).
const defaultPageSize = 16 << 10

func (o *Options) withDefaults() {
	if o.MaxBatchSpans <= 0 {
		o.MaxBatchSpans = 20000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.DeltaMergeEntries <= 0 {
		o.DeltaMergeEntries = defaultDeltaMergeEntries
	}
	if o.TextFlushPostings <= 0 {
		o.TextFlushPostings = defaultTextFlushPostings
	}
	if o.SpanLogSegmentBytes <= 0 {
		o.SpanLogSegmentBytes = defaultSpanLogSegmentBytes
	}
	if o.SpanLogCacheBytes == 0 {
		o.SpanLogCacheBytes = defaultSpanLogCacheBytes
	}
}

// Store is a store.Store on one bbolt file.
type Store struct {
	// mu guards db and the span log's segments: readers hold it shared; compaction takes it
	// exclusively to swap files, retention to remove segments no span points into any more.
	mu     sync.RWMutex
	db     *bolt.DB
	path   string
	logger *zap.Logger
	opts   Options

	// nextDoc is the last doc number handed out (see allocDoc); it starts from the docs
	// bucket's sequence, which every commit raises to the numbers it used.
	nextDoc atomic.Uint64
	// delta holds the committed equality and sort entries not yet merged into their
	// buckets; a merge replaces it with an empty one.
	delta atomic.Pointer[indexDelta]
	// merging is the delta a merge cycle is moving into the buckets (see mergeCycle), and
	// cycle its progress, which only the writer goroutine uses.
	merging atomic.Pointer[indexDelta]
	cycle   mergeCycle
	// mergeLimit is how many entries the next merge chunk takes (see nextMergeLimit).
	mergeLimit int
	// text holds the text postings of docs above textMark not yet written into idx_text,
	// and textFlushing the buffer a flush is writing (see textbuffer.go). textMark and
	// textRetryAt (after a failed flush) are only used by the writer goroutine.
	text         atomic.Pointer[textBuffer]
	textFlushing atomic.Pointer[textBuffer]
	textMark     uint64
	textRetryAt  time.Time
	// textOps is the array of staged text postings between transactions (writer only).
	textOps []textOp
	// spanLog holds the spans' bodies; the spans bucket points into it.
	spanLog *spanLog

	reqs      chan *writeRequest
	closing   chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

// A writeRequest is either spans to fold (group-committed with other requests) or a
// function run in a transaction of its own on the writer goroutine.
type writeRequest struct {
	spans []store.Span
	// bodies are the spans' compressed OTLP bytes, made by the caller; the span log's
	// appendGroup writes them and sets packed, each span's stored value (its pointer).
	bodies spanBodies
	packed [][]byte
	// preps are the spans grouped by record and prepared (see preparedRecord).
	preps []*preparedRecord
	fn    func(s *Store) error
	done  chan error
}

var _ store.Store = (*Store)(nil)

// Open opens or creates dir/tracehound.db and starts the writer.
func Open(dir string, logger *zap.Logger, opts Options) (*Store, error) {
	opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create store directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openDB(path, opts)
	if err != nil {
		return nil, err
	}
	err = rekeyByDoc(db)
	if err == nil {
		err = db.Update(migrate)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	sl, err := openSpanLog(filepath.Join(dir, spanLogDir), opts.SpanLogSegmentBytes, opts.SpanLogCacheBytes)
	if err == nil {
		var pruned []uint32
		if err = db.View(func(tx *bolt.Tx) (err error) { pruned, err = sl.prune(tx); return err }); err != nil {
			_ = sl.close()
		} else if len(pruned) > 0 {
			logger.Info("Removed span log segments that hold nothing committed (left by a crash or an interrupted retention)",
				zap.String("dir", sl.dir), zap.Int("segments", len(pruned)))
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		path:    path,
		logger:  logger,
		opts:    opts,
		spanLog: sl,
		reqs:    make(chan *writeRequest, opts.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := db.View(func(tx *bolt.Tx) error {
		s.nextDoc.Store(tx.Bucket(bucketDocs).Sequence())
		d, err := replayPending(tx)
		if err != nil {
			return err
		}
		s.delta.Store(d)
		b, mark, err := rebuildText(tx)
		s.text.Store(b)
		s.textMark = mark
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	go s.writeLoop()
	return s, nil
}

func openDB(path string, opts Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      2 * time.Second,
		FreelistType: bolt.FreelistMapType,
		NoSync:       opts.NoSync,
		PageSize:     cmp.Or(opts.PageSize, max(defaultPageSize, os.Getpagesize())),
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (is another tracehound running?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	from := 0
	if v := meta.Get(keySchema); v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("unreadable schema version %q", v)
		}
		if n > schemaVersion {
			return fmt.Errorf("store schema version %d is newer than this tracehound understands (%d): upgrade tracehound", n, schemaVersion)
		}
		from = n
	}
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	if from == 1 {
		// The indexes are built from the records, straight into their buckets.
		if err := tx.DeleteBucket(bucketPending); err != nil {
			return fmt.Errorf("migrate schema 1 to 2: %w", err)
		}
		if _, err := tx.CreateBucket(bucketPending); err != nil {
			return fmt.Errorf("migrate schema 1 to 2: %w", err)
		}
		if err := reindex(tx); err != nil {
			return fmt.Errorf("migrate schema 1 to 2 (build indexes): %w", err)
		}
	}
	if meta.Get(keyTextMark) == nil {
		// Every posting so far is in idx_text (before schema 4, or a new store).
		if err := putTextMark(tx, tx.Bucket(bucketDocs).Sequence()); err != nil {
			return err
		}
	}
	return meta.Put(keySchema, []byte(strconv.Itoa(schemaVersion)))
}

// reindex builds every index from the records, for stores written before the indexes existed
// (their records are under doc keys by now: see rekeyByDoc).
func reindex(tx *bolt.Tx) error {
	w := newTxWriter(tx)
	c := tx.Bucket(bucketRecords).Cursor()
	type kv struct {
		k []byte
		r *store.Record
	}
	var all []kv
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		pp, _ := keyProject(k)
		var tid [16]byte
		if !hexDecode(tid[:], r.TraceID) {
			return fmt.Errorf("record %x has trace ID %q", k, r.TraceID)
		}
		all = append(all, kv{cat(pp, tid[:]), r})
	}
	for _, e := range all {
		if err := w.change(e.k, nil, e.r); err != nil {
			return err
		}
	}
	return w.flushAux()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// view runs fn in a read transaction on the current file.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

// WriteSpans implements store.Store.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	if len(spans) == 0 {
		return nil
	}
	preps, err := s.prepare(spans)
	if err != nil {
		return err
	}
	r := &writeRequest{spans: spans, bodies: packSpans(spans, preps), packed: make([][]byte, len(spans)), preps: preps, done: make(chan error, 1)}
	return s.submit(ctx, r)
}

// exec runs fn on the writer goroutine, so that it never races a compaction's file swap.
func (s *Store) exec(ctx context.Context, fn func(s *Store) error) error {
	return s.submit(ctx, &writeRequest{fn: fn, done: make(chan error, 1)})
}

// update runs fn in its own write transaction on the writer goroutine.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.exec(ctx, func(s *Store) error { return s.db.Update(fn) })
}

func (s *Store) submit(ctx context.Context, req *writeRequest) error {
	return store.Submit(ctx, s.reqs, s.closing, req, req.done)
}

func (s *Store) writeLoop() {
	defer close(s.done)
	for {
		var first *writeRequest
		select {
		case first = <-s.reqs:
		case <-s.closing:
			s.drain()
			return
		}
		s.run(first)
	}
}

func (s *Store) run(first *writeRequest) {
	if first.fn != nil {
		first.done <- first.fn(s)
		s.mergeStep()
		return
	}
	group, next := s.collect(first)
	s.commitGroup(group)
	s.mergeStep()
	if err := s.textFlushStep(); err != nil {
		s.logger.Error("Text index flush failed", zap.Error(err))
	}
	if next != nil {
		s.run(next)
	}
}

// collect takes the first request plus whatever span writes are already queued, up to the
// batch cap. Requests pile up while the previous commit syncs, so batches grow with load by
// themselves. A function request ends the group and is returned to run next.
func (s *Store) collect(first *writeRequest) (group []*writeRequest, next *writeRequest) {
	group = []*writeRequest{first}
	n := len(first.spans)
	for n < s.opts.MaxBatchSpans {
		select {
		case r := <-s.reqs:
			if r.fn != nil {
				return group, r
			}
			group = append(group, r)
			n += len(r.spans)
			continue
		default:
		}
		break
	}
	return group, nil
}

func (s *Store) drain() {
	for {
		select {
		case r := <-s.reqs:
			s.run(r)
		default:
			return
		}
	}
}

func (s *Store) commitGroup(group []*writeRequest) {
	// The bodies go to the span log first and are synced while the transaction is built;
	// the transaction commits pointers to them only once they are on disk.
	err := s.spanLog.appendGroup(group)
	if err == nil {
		err = s.db.Update(func(tx *bolt.Tx) error {
			w := s.newTxWriter(tx)
			for _, r := range group {
				for _, p := range r.preps {
					if err := w.addPrepared(p, r.spans, r.packed); err != nil {
						return err
					}
				}
			}
			if err := w.flush(); err != nil {
				return err
			}
			return s.spanLog.wait()
		})
	}
	if err != nil {
		err = fmt.Errorf("commit %d write requests to %s: %w", len(group), s.path, err)
		s.logger.Error("Store commit failed", zap.Error(err))
	}
	for _, r := range group {
		r.done <- err
	}
}

// newTxWriter is a txWriter whose doc numbers come from the store's allocator, shared with
// the goroutines that prepare records.
func (s *Store) newTxWriter(tx *bolt.Tx) *txWriter {
	w := newTxWriter(tx)
	w.allocDoc = s.allocDoc
	w.idx = &deltaWriter{delta: s.delta.Load(), merging: s.merging.Load()}
	w.pending = tx.Bucket(bucketPending)
	tx.OnCommit(w.idx.commit)
	w.textW = &textWriter{buf: s.text.Load(), mark: s.textMark, ops: s.textOps, spare: &s.textOps}
	s.textOps = nil // until this transaction commits and gives it back
	tx.OnCommit(w.textW.commit)
	return w
}

// Close stops the writer after committing what is queued, and closes the file.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.db != nil {
			err = s.db.Close()
		}
		err = errors.Join(err, s.spanLog.close())
	})
	return err
}
