package bboltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/google/btree"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// The equality and sort indexes take one entry per record and field, placed by value: a
// sort entry lands anywhere in its index, and so do the entries of values with many records
// each (users, sessions, runs). Put straight into bbolt, nearly every such entry rewrites a
// 4 KiB page of its own in every commit. Instead, committed entries collect in an in-memory
// index delta and are merged into the buckets in one large, key-ordered transaction, where
// neighbouring entries share their pages.
//
// Durability: each commit also appends the delta entries it changed to idx_pending, one
// sequentially keyed value per commit, which costs a few bytes per entry instead of a page.
// Open replays idx_pending; a merge empties it in the same transaction that writes the
// entries into their buckets.
//
// Readers see the union of a bucket and the delta. An entry is put only into the delta and
// removed from both, so the two never disagree about an entry that exists; they may both
// hold it (put again after a merge), which the union reads once. A reader takes the delta
// before it begins its bbolt transaction: what a commit moves out of a delta into the
// buckets stays in that (then frozen) delta, so a query never misses a committed entry
// because of a merge. A reader may see delta entries of commits after its transaction
// began; every candidate is checked against the transaction's own records, so that only
// changes what a query running at that instant could have found anyway.

// Delta item keys start with the bucket they belong to.
const (
	deltaEq    byte = 'e'
	deltaSort  byte = 's'
	deltaTrace byte = 'r'
)

// defaultDeltaMergeEntries bounds the delta: about 25 MB of entries, the equality and sort
// entries of ~20k records.
const defaultDeltaMergeEntries = 200_000

var bucketPending = []byte("idx_pending")

type deltaItem struct {
	key string // bucket byte | bucket key
	val string
}

func lessDeltaItem(a, b deltaItem) bool { return a.key < b.key }

// indexDelta is the set of index entries not yet merged into their buckets. Only the writer
// goroutine changes it; readers look entries up under the read lock, one seek at a time.
type indexDelta struct {
	mu   sync.RWMutex
	tree *btree.BTreeG[deltaItem]
	// traces mirrors the tree's traces-map entries (deltaTrace) for point lookups: every new
	// trace is looked up twice (when its record is prepared and when it is committed), and a
	// hash lookup costs a fraction of a descent through a tree of long keys.
	traces map[string]string
}

func newIndexDelta() *indexDelta {
	return &indexDelta{tree: btree.NewG(32, lessDeltaItem), traces: map[string]string{}}
}

func (d *indexDelta) len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tree.Len()
}

func (d *indexDelta) has(key string) bool {
	_, ok := d.get(key)
	return ok
}

func (d *indexDelta) get(key string) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if key != "" && key[0] == deltaTrace {
		v, ok := d.traces[key]
		return v, ok
	}
	it, ok := d.tree.Get(deltaItem{key: key})
	return it.val, ok
}

// commit makes a committed transaction's staged changes visible.
func (dw *deltaWriter) commit() {
	dw.delta.apply(dw.staged)
	if dw.merging == nil {
		return
	}
	dels := map[string]stagedEntry{}
	for k, op := range dw.staged {
		if op.del {
			dels[k] = op
		}
	}
	dw.merging.apply(dels)
}

// apply makes staged changes visible.
func (d *indexDelta) apply(ops map[string]stagedEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, op := range ops {
		trace := k != "" && k[0] == deltaTrace
		if op.del {
			d.tree.Delete(deltaItem{key: k})
			if trace {
				delete(d.traces, k)
			}
		} else {
			d.tree.ReplaceOrInsert(deltaItem{key: k, val: op.val})
			if trace {
				d.traces[k] = op.val
			}
		}
	}
}

// seek returns the bucket key (without the bucket byte) of the greatest entry ≤ key (desc)
// or the least ≥ key (asc), among the entries of bucket id.
func (d *indexDelta) seek(id byte, key []byte, desc bool) ([]byte, bool) {
	pivot := deltaItem{key: string(id) + string(key)}
	var found string
	ok := false
	visit := func(it deltaItem) bool {
		found, ok = it.key, true
		return false
	}
	d.mu.RLock()
	if desc {
		d.tree.DescendLessOrEqual(pivot, visit)
	} else {
		d.tree.AscendGreaterOrEqual(pivot, visit)
	}
	d.mu.RUnlock()
	if !ok || found[0] != id {
		return nil, false
	}
	return []byte(found[1:]), true
}

// lookupDoc finds the doc number of the record of tk (a trace key) as of tx and the deltas
// taken before it: the traces map's entries not merged yet are in the deltas.
func lookupDoc(traces *bolt.Bucket, dv deltaView, tk []byte) (uint64, bool) {
	k := string(deltaTrace) + string(tk)
	for _, d := range [...]*indexDelta{dv.newer, dv.merging} {
		if d == nil {
			continue
		}
		if v, ok := d.get(k); ok && len(v) == 8 {
			return binary.BigEndian.Uint64([]byte(v)), true
		}
	}
	if v := traces.Get(tk); len(v) == 8 {
		return binary.BigEndian.Uint64(v), true
	}
	return 0, false
}

// stagedEntry is the final state of one delta entry in a transaction.
type stagedEntry struct {
	val string
	del bool
}

// deltaWriter stages a transaction's index entries for the delta. Deletions also apply to
// the delta being merged, if any.
type deltaWriter struct {
	delta, merging *indexDelta
	staged         map[string]stagedEntry
}

func (dw *deltaWriter) put(id byte, key, val []byte) {
	if dw.staged == nil {
		dw.staged = map[string]stagedEntry{}
	}
	dw.staged[string(id)+string(key)] = stagedEntry{val: string(val)}
}

// delete stages the entry's removal from the delta when it may be there; the caller deletes
// it from the bucket as well.
func (dw *deltaWriter) delete(id byte, key []byte) {
	k := string(id) + string(key)
	if _, ok := dw.staged[k]; ok || dw.delta.has(k) || dw.merging != nil && dw.merging.has(k) {
		if dw.staged == nil {
			dw.staged = map[string]stagedEntry{}
		}
		dw.staged[k] = stagedEntry{del: true}
	}
}

// log appends the staged changes to idx_pending, in key order.
func (dw *deltaWriter) log(pending *bolt.Bucket) error {
	if len(dw.staged) == 0 {
		return nil
	}
	keys := make([]string, 0, len(dw.staged))
	n := 0
	for k, op := range dw.staged {
		keys = append(keys, k)
		n += len(k) + len(op.val) + 8
	}
	sort.Strings(keys)
	b := make([]byte, 0, n)
	for _, k := range keys {
		b = appendPendingOp(b, k, dw.staged[k])
	}
	seq, err := pending.NextSequence()
	if err != nil {
		return fmt.Errorf("log index entries: %w", err)
	}
	if err := pending.Put(binary.BigEndian.AppendUint64(nil, seq), b); err != nil {
		return fmt.Errorf("log index entries: %w", err)
	}
	return nil
}

// A pending value is a run of ops: kind (0 put, 1 delete) | uvarint key length | key, and
// for a put uvarint value length | value.
func appendPendingOp(b []byte, key string, op stagedEntry) []byte {
	kind := byte(0)
	if op.del {
		kind = 1
	}
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if !op.del {
		b = binary.AppendUvarint(b, uint64(len(op.val)))
		b = append(b, op.val...)
	}
	return b
}

var errBadPending = errors.New("malformed idx_pending value")

// uvarintLen is how many bytes binary.AppendUvarint takes for n.
func uvarintLen(n uint64) int {
	w := 1
	for ; n >= 0x80; n >>= 7 {
		w++
	}
	return w
}

func decodePendingOps(v []byte, fn func(key string, op stagedEntry)) error {
	readString := func() (string, bool) {
		n, w := binary.Uvarint(v)
		if w <= 0 || n > uint64(len(v)-w) || w != uvarintLen(n) { // overlong: not what we write
			return "", false
		}
		s := string(v[w : w+int(n)])
		v = v[w+int(n):]
		return s, true
	}
	for len(v) > 0 {
		kind := v[0]
		v = v[1:]
		if kind > 1 {
			return errBadPending
		}
		key, ok := readString()
		if !ok || key == "" || (key[0] != deltaEq && key[0] != deltaSort && key[0] != deltaTrace) {
			return errBadPending
		}
		op := stagedEntry{del: kind == 1}
		if !op.del {
			if op.val, ok = readString(); !ok {
				return errBadPending
			}
		}
		fn(key, op)
	}
	return nil
}

// replayPending rebuilds the delta from idx_pending.
func replayPending(tx *bolt.Tx) (*indexDelta, error) {
	d := newIndexDelta()
	c := tx.Bucket(bucketPending).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		ops := map[string]stagedEntry{}
		if err := decodePendingOps(v, func(key string, op stagedEntry) { ops[key] = op }); err != nil {
			return nil, fmt.Errorf("replay index entries %x: %w", k, err)
		}
		d.apply(ops)
	}
	return d, nil
}

// mergeChunkEntries bounds one merge transaction. The entries of a chunk are adjacent in
// key order, so a chunk rewrites only its share of the buckets' pages, and bbolt holds no
// more than that in memory until the commit. A variable for tests.
var mergeChunkEntries = 16_384

// A merge cycle moves a full delta into its buckets one chunk per writer turn, between the
// commits of span writes, so that writers wait for one chunk at a time, not for the whole
// merge. When a cycle starts the full delta becomes the merging one and new entries go to a
// fresh delta; readers see both until the cycle ends. Deletions apply to both deltas, so a
// chunk never writes an entry deleted since the cycle began. idx_pending values up to the
// cycle's start (the merging delta's log) are dropped with the last chunk; a crash before
// that replays them, and entries that are in their buckets already are read once and put
// again by the next merge.
type mergeCycle struct {
	from    string // the next chunk starts at this delta key
	lastSeq uint64 // the idx_pending sequence when the cycle began
}

// deltaView is what a reader takes of the deltas: the one taking new entries and the one
// being merged, if any.
type deltaView struct{ newer, merging *indexDelta }

// deltaView loads the deltas in the order that leaves no gap: a cycle sets the merging delta
// before it swaps in the new one, and clears it only after its last chunk has committed.
func (s *Store) deltaView() deltaView {
	v := deltaView{newer: s.delta.Load()}
	v.merging = s.merging.Load()
	return v
}

// mergeStep advances the index merge on the writer goroutine, starting a cycle when the
// delta has grown to DeltaMergeEntries. It merges one chunk, and more while the newer delta is
// over that bound: commits that stage more entries than a chunk holds (large batches) would
// otherwise outrun the merge, and the deltas would grow without bound (2M entries, 250 MB,
// over a 1M-record load of 500-trace batches). Writes wait for those chunks instead. A
// failure is logged and retried next turn.
func (s *Store) mergeStep() {
	for {
		if s.merging.Load() == nil {
			if s.delta.Load().len() < s.opts.DeltaMergeEntries {
				return
			}
			if err := s.startMerge(); err != nil {
				s.logger.Error("Index merge failed", zap.Error(err))
				return
			}
		}
		if _, err := s.mergeChunk(); err != nil {
			s.logger.Error("Index merge failed", zap.Error(err))
			return
		}
		if s.delta.Load().len() < s.opts.DeltaMergeEntries {
			return
		}
	}
}

func (s *Store) startMerge() error {
	var seq uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket(bucketPending).Sequence()
		return nil
	}); err != nil {
		return fmt.Errorf("start index merge: %w", err)
	}
	s.cycle = mergeCycle{lastSeq: seq}
	s.merging.Store(s.delta.Load())
	s.delta.Store(newIndexDelta())
	return nil
}

// mergeChunk writes the next chunk of the merging delta into the buckets and reports
// whether the cycle is over.
func (s *Store) mergeChunk() (bool, error) {
	d := s.merging.Load()
	chunk := make([]deltaItem, 0, min(d.len(), mergeChunkEntries))
	d.mu.RLock()
	d.tree.AscendGreaterOrEqual(deltaItem{key: s.cycle.from}, func(it deltaItem) bool {
		chunk = append(chunk, it)
		return len(chunk) < mergeChunkEntries
	})
	d.mu.RUnlock()
	last := len(chunk) < mergeChunkEntries
	err := s.db.Update(func(tx *bolt.Tx) error {
		buckets := map[byte]*bolt.Bucket{deltaEq: tx.Bucket(bucketEq), deltaSort: tx.Bucket(bucketSort), deltaTrace: tx.Bucket(bucketTraces)}
		buckets[deltaEq].FillPercent = 0.8
		for _, it := range chunk {
			if err := buckets[it.key[0]].Put([]byte(it.key[1:]), []byte(it.val)); err != nil {
				return fmt.Errorf("put: %w", err)
			}
		}
		if !last {
			return nil
		}
		c := tx.Bucket(bucketPending).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= s.cycle.lastSeq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("drop merged idx_pending values: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("merge %d index entries into %s: %w", len(chunk), s.path, err)
	}
	if last {
		s.merging.Store(nil)
		return true, nil
	}
	s.cycle.from = chunk[len(chunk)-1].key + "\x00"
	return false, nil
}

// mergeAll merges every index entry into the buckets and empties idx_pending (writer
// goroutine only).
func (s *Store) mergeAll() error {
	for range 2 { // the cycle under way, if any, then one for the rest
		if s.merging.Load() == nil {
			if err := s.startMerge(); err != nil {
				return err
			}
		}
		for {
			done, err := s.mergeChunk()
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return nil
}

// deltaIter walks a delta's entries prefix | position, like keyIter does a bucket's.
type deltaIter struct {
	d      *indexDelta
	id     byte
	prefix []byte
}

func (it *deltaIter) seek(target pos, desc bool) (pos, bool) {
	var p pos
	k, ok := it.d.seek(it.id, cat(it.prefix, target[:]), desc)
	if !ok || !bytes.HasPrefix(k, it.prefix) || len(k) != len(it.prefix)+24 {
		return p, false
	}
	copy(p[:], k[len(it.prefix):])
	return p, true
}

// unionIter yields the positions of both iterators, an entry in both once.
type unionIter struct{ a, b iterator }

func (u *unionIter) seek(target pos, desc bool) (pos, bool) {
	pa, oka := u.a.seek(target, desc)
	pb, okb := u.b.seek(target, desc)
	switch {
	case !oka:
		return pb, okb
	case !okb:
		return pa, oka
	}
	if c := bytes.Compare(pa[:], pb[:]); desc == (c > 0) {
		return pa, true
	}
	return pb, true
}

// indexIter walks the entries prefix | position of an index bucket and of the deltas.
func indexIter(b *bolt.Bucket, v deltaView, id byte, prefix []byte) iterator {
	var it iterator = &keyIter{c: b.Cursor(), prefix: prefix}
	for _, d := range []*indexDelta{v.newer, v.merging} {
		if d != nil {
			it = &unionIter{a: it, b: &deltaIter{d: d, id: id, prefix: prefix}}
		}
	}
	return it
}

// indexValue is the value of an index entry: the newest delta's, the merging one's, or the
// bucket's.
func indexValue(b *bolt.Bucket, v deltaView, id byte, key []byte) []byte {
	for _, d := range []*indexDelta{v.newer, v.merging} {
		if d == nil {
			continue
		}
		if val, ok := d.get(string(id) + string(key)); ok {
			return []byte(val)
		}
	}
	return b.Get(key)
}
