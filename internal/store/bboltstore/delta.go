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

// An equality or sort entry's key is its bucket byte, a prefix that the entry shares with
// the others a reader walks together (project | field | value, or project | sort field), and
// a 24-byte position (see pos). The delta keeps one small tree per prefix, its part: an
// insert then hashes the prefix once and compares positions — three integers — in a tree of
// that prefix's entries alone, instead of comparing long shared prefixes all the way down
// one tree of every entry. Readers walk a single part, so they lose nothing.
type deltaEntry struct {
	p  pos
	n  uint8 // how many bytes of p the key has: 24 but in keys too short to hold a position
	vn uint8 // how many bytes of v the value has
	v  [maxDeltaValue]byte
}

// maxDeltaValue bounds the values of equality and sort entries (empty, and a start time), so
// that an entry holds its value inline: a part's tree then holds no pointers for the garbage
// collector to scan, and moving entries in its nodes takes no write barriers.
const maxDeltaValue = 8

func (e *deltaEntry) val() string { return string(e.v[:e.vn]) }

func lessDeltaEntry(a, b deltaEntry) bool {
	for i := 0; i < len(a.p); i += 8 {
		x, y := binary.BigEndian.Uint64(a.p[i:]), binary.BigEndian.Uint64(b.p[i:])
		if x != y {
			return x < y
		}
	}
	return a.n < b.n
}

// splitDeltaKey splits a delta key into its part (bucket byte | prefix) and its position.
// Position order within a part is the keys' byte order.
func splitDeltaKey[K string | []byte](k K) (part K, e deltaEntry) {
	n := min(max(len(k)-1, 0), len(e.p))
	part = k[:len(k)-n]
	copy(e.p[:], k[len(part):])
	e.n = uint8(n)
	return part, e
}

const deltaPartDegree = 32

// indexDelta is the set of index entries not yet merged into their buckets. Only the writer
// goroutine changes it; readers look entries up under the read lock, one seek at a time.
type indexDelta struct {
	mu    sync.RWMutex
	parts map[string]*btree.BTreeG[deltaEntry] // bucket byte | prefix → its entries
	free  *btree.FreeListG[deltaEntry]         // one for every part: most parts are small
	// traces holds the traces-map entries (deltaTrace | trace key), which are only ever
	// looked up one by one: every new trace is looked up twice (when its record is prepared
	// and when it is committed).
	traces map[string]string
	n      int
}

func newIndexDelta() *indexDelta {
	return &indexDelta{
		parts:  map[string]*btree.BTreeG[deltaEntry]{},
		free:   btree.NewFreeListG[deltaEntry](btree.DefaultFreeListSize),
		traces: map[string]string{},
	}
}

func (d *indexDelta) len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.n
}

func (d *indexDelta) get(key string) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if key != "" && key[0] == deltaTrace {
		v, ok := d.traces[key]
		return v, ok
	}
	part, e := splitDeltaKey(key)
	t := d.parts[part]
	if t == nil {
		return "", false
	}
	it, ok := t.Get(e)
	return it.val(), ok
}

// commit makes a committed transaction's staged changes visible.
func (dw *deltaWriter) commit() {
	dw.delta.apply(dw.ops)
	if dw.merging == nil {
		return
	}
	var dels []stagedOp
	for _, op := range dw.ops {
		if op.del {
			dels = append(dels, op)
		}
	}
	dw.merging.apply(dels)
}

// apply makes staged changes visible, in order.
func (d *indexDelta) apply(ops []stagedOp) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, op := range ops {
		k := op.key
		if len(k) > 0 && k[0] == deltaTrace {
			_, had := d.traces[string(k)]
			switch {
			case op.del && had:
				delete(d.traces, string(k))
				d.n--
			case !op.del:
				d.traces[string(k)] = string(op.val)
				if !had {
					d.n++
				}
			}
			continue
		}
		part, e := splitDeltaKey(k)
		t := d.parts[string(part)]
		if op.del {
			if t == nil {
				continue
			}
			if _, ok := t.Delete(e); ok {
				d.n--
				if t.Len() == 0 {
					delete(d.parts, string(part))
				}
			}
			continue
		}
		if t == nil {
			t = btree.NewWithFreeListG(deltaPartDegree, lessDeltaEntry, d.free)
			d.parts[string(part)] = t
		}
		e.vn = uint8(copy(e.v[:], op.val))
		if _, replaced := t.ReplaceOrInsert(e); !replaced {
			d.n++
		}
	}
}

// seek returns the position of the greatest entry ≤ target (desc) or the least ≥ target
// (asc) among the entries id | prefix | position.
func (d *indexDelta) seek(id byte, prefix []byte, target pos, desc bool) (pos, bool) {
	var kb [80]byte
	k := append(append(kb[:0], id), prefix...)
	var found pos
	ok := false
	visit := func(e deltaEntry) bool {
		if int(e.n) != len(e.p) { // a key too short to be an entry: not one of a walk's
			return true
		}
		found, ok = e.p, true
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	t := d.parts[string(k)]
	if t == nil {
		return found, false
	}
	pivot := deltaEntry{p: target, n: uint8(len(target))}
	if desc {
		t.DescendLessOrEqual(pivot, visit)
	} else {
		t.AscendGreaterOrEqual(pivot, visit)
	}
	return found, ok
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

// stagedEntry is a decoded idx_pending op's change to its key.
type stagedEntry struct {
	val string
	del bool
}

// stagedOp is one change to the delta. A transaction's ops apply in the order staged, so a
// later op on a key decides its state.
type stagedOp struct {
	key, val []byte // key: bucket byte | bucket key
	del      bool
}

// deltaWriter stages a transaction's index entries for the delta. Deletions also apply to
// the delta being merged, if any.
type deltaWriter struct {
	delta, merging *indexDelta
	ops            []stagedOp
	arena          []byte // holds the ops' keys and values
	// traces is the last op staged on each traces-map key (without the bucket byte), which
	// the writer looks up within its transaction.
	traces map[string]stagedOp
}

func (dw *deltaWriter) stage(id byte, key, val []byte, del bool) {
	n := 1 + len(key) + len(val)
	if cap(dw.arena)-len(dw.arena) < n {
		dw.arena = make([]byte, 0, max(16<<10, n))
	}
	at := len(dw.arena)
	dw.arena = append(append(append(dw.arena, id), key...), val...)
	kEnd := at + 1 + len(key)
	op := stagedOp{key: dw.arena[at:kEnd:kEnd], val: dw.arena[kEnd:len(dw.arena):len(dw.arena)], del: del}
	dw.ops = append(dw.ops, op)
	if id == deltaTrace {
		if dw.traces == nil {
			dw.traces = map[string]stagedOp{}
		}
		dw.traces[string(key)] = op
	}
}

func (dw *deltaWriter) put(id byte, key, val []byte) { dw.stage(id, key, val, false) }

// delete stages the entry's removal from the delta; the caller deletes it from the bucket as
// well. Removing an entry the delta does not hold changes nothing, and entries are deleted
// only when a record changes, so the op is staged without looking.
func (dw *deltaWriter) delete(id byte, key []byte) { dw.stage(id, key, nil, true) }

// log appends the staged changes to idx_pending, in the order staged.
func (dw *deltaWriter) log(pending *bolt.Bucket) error {
	if len(dw.ops) == 0 {
		return nil
	}
	n := 0
	for _, op := range dw.ops {
		n += len(op.key) + len(op.val) + 8
	}
	b := make([]byte, 0, n)
	for _, op := range dw.ops {
		b = appendPendingOp(b, op.key, op.val, op.del)
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
func appendPendingOp[K string | []byte](b []byte, key, val K, del bool) []byte {
	kind := byte(0)
	if del {
		kind = 1
	}
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if !del {
		b = binary.AppendUvarint(b, uint64(len(val)))
		b = append(b, val...)
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
			if op.val, ok = readString(); !ok || key[0] != deltaTrace && len(op.val) > maxDeltaValue {
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
		var ops []stagedOp
		if err := decodePendingOps(v, func(key string, op stagedEntry) {
			ops = append(ops, stagedOp{key: []byte(key), val: []byte(op.val), del: op.del})
		}); err != nil {
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

// mergeChunkNodes bounds the pages a merge transaction touches, as bbolt's count of the nodes
// it materialised. Adjacent entries need not share pages: trace keys are random, so on a
// large store nearly every trace entry of a chunk lands on a page of its own, which bbolt
// reads, decodes, and writes anew. A merge chunk runs on the writer goroutine, between
// commits: chunks of 16k trace entries touched 1,000–1,350 pages and took 90–320 ms on a
// 3 GB store, while requests piled up behind them (open loop at 10k spans/s: request p99
// 200–600 ms, and peaks of 300–330 MiB of anonymous memory, as the waiting requests' data
// with GOGC=200). Equality and sort entries cluster: 16k of them touch 3–100 pages.
const mergeChunkNodes = 256

// mergeChunkMin is the fewest entries a merge chunk takes, however many pages they touch.
const mergeChunkMin = 256

// nextMergeLimit sizes the next merge chunk from the last one, which took entries and made
// bbolt materialise nodes: smaller when it touched more than mergeChunkNodes pages, back up
// (to mergeChunkEntries) while a full chunk touches under half of that.
func nextMergeLimit(limit, entries int, nodes int64) int {
	switch {
	case nodes > mergeChunkNodes:
		limit = max(mergeChunkMin, int(int64(entries)*mergeChunkNodes/nodes))
	case nodes < mergeChunkNodes/2 && entries >= limit:
		limit *= 2
	}
	return min(limit, mergeChunkEntries)
}

// A merge cycle moves a full delta into its buckets one chunk per writer turn, between the
// commits of span writes, so that writers wait for one chunk at a time, not for the whole
// merge. When a cycle starts the full delta becomes the merging one and new entries go to a
// fresh delta; readers see both until the cycle ends. Deletions apply to both deltas, so a
// chunk never writes an entry deleted since the cycle began. idx_pending values up to the
// cycle's start (the merging delta's log) are dropped with the last chunk; a crash before
// that replays them, and entries that are in their buckets already are read once and put
// again by the next merge.
type mergeCycle struct {
	lastSeq uint64 // the idx_pending sequence when the cycle began
	// parts are the merging delta's parts in key order and then its traces-map keys in
	// order, taken when the cycle began: the delta gets no new entries after that.
	parts, traces []string
	at            mergeCursor // where the next chunk starts
}

// mergeCursor is a place in a cycle's order: parts[part], after the entry after (if
// hasAfter), or traces[trace] once every part is done.
type mergeCursor struct {
	part, trace int
	after       deltaEntry
	hasAfter    bool
}

// mergeItem is one entry of a merge chunk: its bucket and key in that bucket.
type mergeItem struct {
	id       byte
	key, val []byte
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
	d := s.delta.Load()
	s.cycle = newMergeCycle(d, seq) // only this goroutine changes d, and it takes no more entries
	s.merging.Store(d)
	s.delta.Store(newIndexDelta())
	return nil
}

// newMergeCycle is a cycle over the entries of d, which takes no new ones from now on.
func newMergeCycle(d *indexDelta, lastSeq uint64) mergeCycle {
	c := mergeCycle{lastSeq: lastSeq, parts: make([]string, 0, len(d.parts)), traces: make([]string, 0, len(d.traces))}
	for part := range d.parts {
		c.parts = append(c.parts, part)
	}
	for k := range d.traces {
		c.traces = append(c.traces, k)
	}
	sort.Strings(c.parts)
	sort.Strings(c.traces)
	return c
}

// nextChunk collects up to limit entries of d from the cycle's cursor on, and returns the
// cursor after them; done is true when they are the cycle's last.
func (c *mergeCycle) nextChunk(d *indexDelta, limit int) (chunk []mergeItem, next mergeCursor, done bool) {
	chunk = make([]mergeItem, 0, min(d.n, limit))
	var arena []byte
	// reserve makes room for n more bytes in the chunk's arena; cut makes the entry of the
	// bytes from at on, its key before kEnd and its value after.
	reserve := func(n int) {
		if cap(arena)-len(arena) < n {
			arena = make([]byte, 0, max(64<<10, n))
		}
	}
	cut := func(id byte, at, kEnd int) {
		chunk = append(chunk, mergeItem{id: id, key: arena[at:kEnd:kEnd], val: arena[kEnd:len(arena):len(arena)]})
	}
	next = c.at
	d.mu.RLock()
	defer d.mu.RUnlock()
	for ; next.part < len(c.parts) && len(chunk) < limit; next.part, next.hasAfter = next.part+1, false {
		part := c.parts[next.part]
		t := d.parts[part] // nil when deletions emptied it
		if t == nil {
			continue
		}
		visit := func(e deltaEntry) bool {
			if next.hasAfter && !lessDeltaEntry(next.after, e) {
				return true
			}
			reserve(len(part) + int(e.n) + int(e.vn))
			at := len(arena)
			arena = append(append(arena, part[1:]...), e.p[:e.n]...)
			kEnd := len(arena)
			arena = append(arena, e.v[:e.vn]...)
			cut(part[0], at, kEnd)
			next.after, next.hasAfter = e, true
			return len(chunk) < limit
		}
		if next.hasAfter {
			t.AscendGreaterOrEqual(next.after, visit)
		} else {
			t.Ascend(visit)
		}
		if len(chunk) == limit {
			// The chunk may have ended with the part's last entry: the next one then finds
			// nothing after it there and goes on.
			return chunk, next, false
		}
	}
	for ; next.trace < len(c.traces) && len(chunk) < limit; next.trace++ {
		k := c.traces[next.trace]
		if v, ok := d.traces[k]; ok {
			reserve(len(k) + len(v))
			at := len(arena)
			arena = append(arena, k[1:]...)
			kEnd := len(arena)
			arena = append(arena, v...)
			cut(k[0], at, kEnd)
		}
	}
	return chunk, next, next.trace == len(c.traces)
}

// mergeChunk writes the next chunk of the merging delta into the buckets and reports
// whether the cycle is over.
func (s *Store) mergeChunk() (bool, error) {
	limit := s.mergeLimit
	if limit <= 0 || limit > mergeChunkEntries {
		limit = mergeChunkEntries
	}
	chunk, next, last := s.cycle.nextChunk(s.merging.Load(), limit)
	var nodes int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		buckets := map[byte]*bolt.Bucket{deltaEq: tx.Bucket(bucketEq), deltaSort: tx.Bucket(bucketSort), deltaTrace: tx.Bucket(bucketTraces)}
		buckets[deltaEq].FillPercent = 0.8
		for _, it := range chunk {
			if err := buckets[it.id].Put(it.key, it.val); err != nil {
				return fmt.Errorf("put: %w", err)
			}
		}
		stats := tx.Stats()
		nodes = stats.GetNodeCount()
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
	s.mergeLimit = nextMergeLimit(limit, len(chunk), nodes)
	if last {
		s.merging.Store(nil)
		s.cycle = mergeCycle{}
		return true, nil
	}
	s.cycle.at = next
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
	return it.d.seek(it.id, it.prefix, target, desc)
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
