// Package bboltstore is the embedded, single-file store.Store backend. All writes go through
// one writer goroutine that commits many callers' spans in one bbolt transaction (group
// commit): a caller's WriteSpans returns only after the transaction holding its spans has
// been synced to disk.
package bboltstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// FileName is the name of the database file inside the configured directory.
const FileName = "tracehound.db"

// schemaVersion is the layout version written into the meta bucket. Bump it together with
// a migration in migrate when the layout changes.
const schemaVersion = 1

var (
	bucketMeta    = []byte("meta")
	bucketSpans   = []byte("spans")
	bucketRecords = []byte("records")
	bucketByTime  = []byte("records_by_time")
	keySchema     = []byte("schema_version")
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
}

func (o *Options) withDefaults() {
	if o.MaxBatchSpans <= 0 {
		o.MaxBatchSpans = 20000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
}

// Store is a store.Store on one bbolt file.
type Store struct {
	db     *bolt.DB
	logger *zap.Logger
	opts   Options

	reqs      chan *writeRequest
	closing   chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

type writeRequest struct {
	spans []store.Span
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
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      2 * time.Second,
		FreelistType: bolt.FreelistMapType,
		NoSync:       opts.NoSync,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (is another tracehound running?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Update(migrate); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		logger:  logger,
		opts:    opts,
		reqs:    make(chan *writeRequest, opts.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.writeLoop()
	return s, nil
}

func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if v := meta.Get(keySchema); v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("unreadable schema version %q", v)
		}
		if n > schemaVersion {
			return fmt.Errorf("store schema version %d is newer than this tracehound understands (%d): upgrade tracehound", n, schemaVersion)
		}
	}
	for _, b := range [][]byte{bucketSpans, bucketRecords, bucketByTime} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return meta.Put(keySchema, []byte(strconv.Itoa(schemaVersion)))
}

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// WriteSpans implements store.Store.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	if len(spans) == 0 {
		return nil
	}
	req := &writeRequest{spans: spans, done: make(chan error, 1)}
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	select {
	case s.reqs <- req:
	case <-s.closing:
		return store.ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("store write queue full: %w", ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The spans may still commit; a client retry is deduplicated by span ID.
		return fmt.Errorf("waiting for store commit: %w", ctx.Err())
	}
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
		s.commitGroup(s.collect(first))
	}
}

// collect takes the first request plus whatever else is already queued, up to the batch cap.
// Requests pile up while the previous commit syncs, so batches grow with load by themselves.
func (s *Store) collect(first *writeRequest) []*writeRequest {
	group := []*writeRequest{first}
	n := len(first.spans)
	for n < s.opts.MaxBatchSpans {
		select {
		case r := <-s.reqs:
			group = append(group, r)
			n += len(r.spans)
			continue
		default:
		}
		break
	}
	return group
}

func (s *Store) drain() {
	for {
		select {
		case r := <-s.reqs:
			s.commitGroup(s.collect(r))
		default:
			return
		}
	}
}

func (s *Store) commitGroup(group []*writeRequest) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx)
		for _, r := range group {
			for i := range r.spans {
				if err := w.add(&r.spans[i]); err != nil {
					return err
				}
			}
		}
		return w.flush()
	})
	if err != nil {
		err = fmt.Errorf("commit %d write requests to %s: %w", len(group), s.db.Path(), err)
		s.logger.Error("Store commit failed", zap.Error(err))
	}
	for _, r := range group {
		r.done <- err
	}
}

// Close stops the writer after committing what is queued, and closes the file.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		err = s.db.Close()
	})
	return err
}

// txWriter folds spans into records inside one transaction, writing each record once.
type txWriter struct {
	spans, records, byTime *bolt.Bucket
	dirty                  map[string]*dirtyRecord
}

type dirtyRecord struct {
	rec      *store.Record
	oldStart int64
	existed  bool
}

func newTxWriter(tx *bolt.Tx) *txWriter {
	return &txWriter{
		spans:   tx.Bucket(bucketSpans),
		records: tx.Bucket(bucketRecords),
		byTime:  tx.Bucket(bucketByTime),
		dirty:   map[string]*dirtyRecord{},
	}
}

func (w *txWriter) add(sp *store.Span) error {
	rk := recordKey(sp.Project, sp.TraceID)
	sk := append(rk, sp.SpanID[:]...)
	if w.spans.Get(sk) != nil {
		return nil
	}
	if err := w.spans.Put(sk, sp.Raw); err != nil {
		return fmt.Errorf("put span: %w", err)
	}
	d, ok := w.dirty[string(rk)]
	if !ok {
		d = &dirtyRecord{}
		if v := w.records.Get(rk); v != nil {
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("record %s: %w", sp.TraceIDHex(), err)
			}
			d.rec, d.existed, d.oldStart = rec, true, rec.Assembly.StartNanos
		} else {
			d.rec = store.NewRecord(sp.Project, sp.TraceIDHex())
		}
		w.dirty[string(rk)] = d
	}
	d.rec.Fold(sp)
	return nil
}

func (w *txWriter) flush() error {
	for rk, d := range w.dirty {
		v, err := encodeRecord(d.rec)
		if err != nil {
			return fmt.Errorf("encode record %s: %w", d.rec.ID, err)
		}
		if err := w.records.Put([]byte(rk), v); err != nil {
			return fmt.Errorf("put record: %w", err)
		}
		start := d.rec.Assembly.StartNanos
		if d.existed && d.oldStart != start {
			if err := w.byTime.Delete(timeKey([]byte(rk), d.oldStart)); err != nil {
				return fmt.Errorf("delete time index: %w", err)
			}
		}
		if !d.existed || d.oldStart != start {
			if err := w.byTime.Put(timeKey([]byte(rk), start), nil); err != nil {
				return fmt.Errorf("put time index: %w", err)
			}
		}
	}
	return nil
}

// storedRecord is a record with its assembly bookkeeping, as persisted.
type storedRecord struct {
	*store.Record
	Asm *store.Assembly `json:"_asm"`
}

func encodeRecord(r *store.Record) ([]byte, error) {
	return json.Marshal(storedRecord{Record: r, Asm: &r.Assembly})
}

func decodeRecord(b []byte) (*store.Record, error) {
	r := &store.Record{}
	if err := json.Unmarshal(b, &storedRecord{Record: r, Asm: &r.Assembly}); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if r.Scores == nil {
		r.Scores = map[string]store.Score{}
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	return r, nil
}

// Keys: every key starts with the project (2-byte length + bytes), so one project's data is
// one contiguous key range and no lookup can cross into another project.

func projectPrefix(project string) []byte {
	b := make([]byte, 2, 2+len(project)+24)
	binary.BigEndian.PutUint16(b, uint16(len(project)))
	return append(b, project...)
}

func recordKey(project string, traceID [16]byte) []byte {
	return append(projectPrefix(project), traceID[:]...)
}

// timeKey is project | start (8 bytes, big endian) | trace ID, derived from a record key.
func timeKey(rk []byte, start int64) []byte {
	plen := len(rk) - 16
	k := make([]byte, 0, len(rk)+8)
	k = append(k, rk[:plen]...)
	k = binary.BigEndian.AppendUint64(k, uint64(start))
	return append(k, rk[plen:]...)
}

// ListRecords implements store.Store.
func (s *Store) ListRecords(_ context.Context, project string, q store.Query) (store.Page, error) {
	limit := store.ClampLimit(q.Limit)
	prefix := projectPrefix(project)
	seek := append([]byte{}, prefix...)
	if q.Cursor != "" {
		c, ok := decodeCursor(q.Cursor)
		if !ok {
			return store.Page{}, store.ErrBadCursor
		}
		seek = append(seek, c...)
	} else {
		seek = append(seek, bytesFF(24)...)
	}
	page := store.Page{Records: []*store.Record{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		cur := tx.Bucket(bucketByTime).Cursor()
		k, _ := cur.Seek(seek)
		if k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
		for ; k != nil && hasPrefix(k, prefix) && len(k) == len(prefix)+24; k, _ = cur.Prev() {
			if len(page.Records) == limit {
				page.NextCursor = encodeCursor(lastKeyTail(page.Records, prefix))
				return nil
			}
			rk := append(append([]byte{}, prefix...), k[len(prefix)+8:]...)
			v := records.Get(rk)
			if v == nil {
				continue
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return err
			}
			page.Records = append(page.Records, rec)
		}
		return nil
	})
	return page, err
}

// A cursor is a version byte, the position (start + trace ID) and a CRC, base64url encoded,
// so that hand-made or truncated cursors are refused instead of silently listing nothing.
const cursorVersion = 1

func encodeCursor(pos []byte) string {
	b := make([]byte, 0, 1+len(pos)+4)
	b = append(b, cursorVersion)
	b = append(b, pos...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 1+24+4 || b[0] != cursorVersion {
		return nil, false
	}
	if crc32.ChecksumIEEE(b[:25]) != binary.BigEndian.Uint32(b[25:]) {
		return nil, false
	}
	return b[1:25], true
}

// lastKeyTail is the cursor of the last record on a page: its start and trace ID.
func lastKeyTail(recs []*store.Record, prefix []byte) []byte {
	last := recs[len(recs)-1]
	var tid [16]byte
	hexDecode(tid[:], last.TraceID)
	k := timeKey(append(append([]byte{}, prefix...), tid[:]...), last.Assembly.StartNanos)
	return k[len(prefix):]
}

// GetRecord implements store.Store.
func (s *Store) GetRecord(_ context.Context, project, traceID string) (*store.Record, error) {
	var tid [16]byte
	if !hexDecode(tid[:], traceID) {
		return nil, store.ErrNotFound
	}
	var rec *store.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(recordKey(project, tid))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		rec, err = decodeRecord(v)
		return err
	})
	return rec, err
}

// GetSpans implements store.Store.
func (s *Store) GetSpans(_ context.Context, project, traceID string) ([]store.Span, error) {
	var tid [16]byte
	if !hexDecode(tid[:], traceID) {
		return nil, store.ErrNotFound
	}
	prefix := recordKey(project, tid)
	var spans []store.Span
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketSpans).Cursor()
		for k, v := cur.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = cur.Next() {
			sp, _, err := store.DecodeSpan(project, append([]byte{}, v...))
			if err != nil {
				return fmt.Errorf("trace %s: %w", traceID, err)
			}
			spans = append(spans, sp)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, store.ErrNotFound
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans, nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

func bytesFF(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xff
	}
	return b
}

// hexDecode decodes a hex ID of exactly len(dst) bytes.
func hexDecode(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}
