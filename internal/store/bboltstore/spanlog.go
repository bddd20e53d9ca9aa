package bboltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/tracehound/tracehound/internal/durable"
)

// The span log holds the stored spans' bodies (their OTLP bytes, compressed in blocks of one
// trace, see spanblock.go) outside bbolt's file: append-only segment files under dir/spans,
// written once per commit in sequential writes and synced while the transaction that points at
// them is built. The spans bucket keeps, under each span's key, a pointer to its block
// (segment, offset, length, checksum) and to the span's bytes in it.
//
// Why: span bodies are about two thirds of the bytes stored, written once and read rarely (a
// record's span tree, an export's message lists). In bbolt each commit rewrote the right edge
// of the spans bucket and every new page went through the page cache, which the file's growth
// kept growing (on the benchmark VM a new page-cache page grew 5–15× dearer past ~2 GiB, see
// docs/benchmarks.md, tenth round). The log is written sequentially, and only its newest
// synced bytes (256 MiB by default) stay in the page cache; older ranges are dropped with
// POSIX_FADV_DONTNEED where there is one. bbolt's file keeps only records and indexes, which
// the writer and queries do read.
//
// Space comes back by segments: each segment's live bytes are counted in the span_log bucket,
// in the transactions that put and delete spans, and a segment whose spans are all deleted
// (retention deletes the oldest records first, and spans arrive roughly in time order) is
// removed after that transaction commits. A segment kept by a few long-lived spans stays whole;
// there is no rewriting of partly dead segments.
//
// Crash safety: bbolt commits a pointer only after the segment bytes it points at are synced,
// so a committed pointer always has its body. Bytes written for a transaction that did not
// commit stay in the segment, unreferenced. A segment file with no live bytes in the bucket,
// other than the newest, holds nothing committed and is removed on open.

// spanLogMarker starts a spans-bucket value that points at a span compressed on its own in the
// span log, as schema 6 wrote them (still read; nothing writes them now). Inline values
// (stores written before schema 6) start with compressedMarker, or are plain protobuf, which
// no field 0 starts.
const spanLogMarker = 0x01

// spanBlockMarker starts a spans-bucket value that points at a span in a compressed block of
// spans (schema 7, see spanblock.go).
const spanBlockMarker = 0x03

// defaultSpanLogCacheBytes is how many of the newest synced bytes of the log stay in the page
// cache (see dropOld).
const defaultSpanLogCacheBytes = 256 << 20

// defaultSpanLogSegmentBytes is the size past which the log starts a new segment. Smaller
// segments give space back in finer steps; each is a file (opened on first read).
const defaultSpanLogSegmentBytes = 64 << 20

var (
	bucketSpanLog = []byte("span_log") // segment (4, big-endian) → live bytes (8, big-endian)
	crcTable      = crc32.MakeTable(crc32.Castagnoli)
)

type spanLog struct {
	dir          string
	segmentBytes int64

	// mu guards files; readers hold it shared, removing segments takes it exclusively.
	mu    sync.RWMutex
	files map[uint32]*os.File

	// Only the writer goroutine uses these.
	active     uint32   // the segment appends go to
	activeFile *os.File // its file (also in files, which readers may add to meanwhile)
	size       int64    // its length: where the next append starts
	newSegment bool     // active was created since the last sync, and the directory not synced
	buf        []byte   // bodies gathered for one write (see writeChunk)
	pending    chan error
	// writing is the range the pending sync covers; once synced it joins cached, the synced
	// ranges still in the page cache, oldest first, cachedBytes long in all. Beyond
	// cacheBytes the oldest are dropped (see dropOld).
	writing     logRange
	cached      []logRange
	cachedBytes int64
	cacheBytes  int64
}

// A logRange is a range of bytes of one segment.
type logRange struct {
	seg        uint32
	start, end int64
}

// openSpanLog opens the log under dir, creating it when missing.
func openSpanLog(dir string, segmentBytes, cacheBytes int64) (*spanLog, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create span log directory %s: %w", dir, err)
	}
	// The directory's own entry must last as long as the pointers into it.
	if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("open span log: %w", err)
	}
	l := &spanLog{dir: dir, segmentBytes: segmentBytes, cacheBytes: max(cacheBytes, 0), files: map[uint32]*os.File{}}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return l, l.rotate(1)
	}
	l.active = segs[len(segs)-1]
	f, err := os.OpenFile(l.segmentPath(l.active), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open span log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open span log: %w", err)
	}
	l.files[l.active], l.activeFile = f, f
	l.size = fi.Size()
	return l, nil
}

func (l *spanLog) segmentPath(id uint32) string {
	return filepath.Join(l.dir, fmt.Sprintf("%08d.log", id))
}

// segments lists the segment files in the directory, oldest first.
func (l *spanLog) segments() ([]uint32, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list span log %s: %w", l.dir, err)
	}
	var ids []uint32
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil || id == 0 {
			continue
		}
		ids = append(ids, uint32(id))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// rotate starts segment id and makes it the active one.
func (l *spanLog) rotate(id uint32) error {
	f, err := os.OpenFile(l.segmentPath(id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("start span log segment: %w", err)
	}
	l.mu.Lock()
	l.files[id] = f
	l.mu.Unlock()
	l.active, l.activeFile, l.size, l.newSegment = id, f, 0, true
	return nil
}

// appendGroup writes the blocks of a group of write requests to the log and sets each
// request's packed values to the spans' pointers into them. The write is synced in the background; the
// caller must wait for it (wait) before it commits the pointers.
func (l *spanLog) appendGroup(group []*writeRequest) error {
	_ = l.wait() // a failed transaction may have left it; its error went with that one
	l.dropOld()
	if l.size >= l.segmentBytes {
		if err := l.rotate(l.active + 1); err != nil {
			return err
		}
	}
	start := l.size
	n := 0
	for _, r := range group {
		n += len(r.spans)
	}
	// The pointers live as long as their requests; one block holds them all.
	ptrs := make([]byte, 0, n*maxPointerLen)
	f := l.activeFile
	// Blocks are gathered into writes of up to writeChunk bytes: few calls, and a buffer
	// that does not grow with the group.
	if l.buf == nil {
		l.buf = make([]byte, 0, writeChunk)
	}
	l.buf = l.buf[:0]
	// write puts b at the end of the segment. After an error part of it may be in the file;
	// nothing points at it, and the next group writes past it.
	write := func(b []byte) error {
		_, err := f.WriteAt(b, l.size)
		l.size += int64(len(b))
		if err != nil {
			return fmt.Errorf("write span log segment %d: %w", l.active, err)
		}
		return nil
	}
	flush := func() error {
		err := write(l.buf)
		l.buf = l.buf[:0]
		return err
	}
	var offs []int64
	for _, r := range group {
		offs = offs[:0]
		for _, v := range r.bodies.blocks {
			if len(l.buf)+len(v) > cap(l.buf) {
				if err := flush(); err != nil {
					return err
				}
			}
			offs = append(offs, l.size+int64(len(l.buf)))
			if len(v) > cap(l.buf) { // larger than a chunk: written as it is
				if err := write(v); err != nil {
					return err
				}
			} else {
				l.buf = append(l.buf, v...)
			}
		}
		for i, at := range r.bodies.at {
			if at.block < 0 {
				continue
			}
			stored := len(r.bodies.blocks[at.block])
			share := blockShare(stored, r.bodies.rawLen[at.block], at)
			p := len(ptrs)
			ptrs = appendBlockPointer(ptrs, l.active, offs[at.block], stored, r.bodies.crcs[at.block], at, share)
			r.packed[i] = ptrs[p:len(ptrs):len(ptrs)]
		}
	}
	if err := flush(); err != nil {
		return err
	}
	syncDir := l.newSegment
	l.newSegment = false
	l.writing = logRange{seg: l.active, start: start, end: l.size}
	l.pending = make(chan error, 1)
	go func(done chan<- error) {
		err := f.Sync()
		if err == nil && syncDir {
			err = durable.SyncDir(l.dir)
		}
		if err != nil {
			err = fmt.Errorf("sync span log segment %s: %w", f.Name(), err)
		}
		done <- err
	}(l.pending)
	return nil
}

// writeChunk is the most bytes one write of the log gathers.
const writeChunk = 1 << 20

// dropAlign is the unit of the page cache that dropping works in.
var dropAlign = int64(os.Getpagesize())

// wait returns when the last appendGroup's bodies are on disk.
func (l *spanLog) wait() error {
	if l.pending == nil {
		return nil
	}
	err := <-l.pending
	l.pending = nil
	if err == nil && l.writing.end > l.writing.start {
		l.addCached(l.writing)
	}
	return err
}

// addCached notes a synced range as being in the page cache.
func (l *spanLog) addCached(r logRange) {
	l.cachedBytes += r.end - r.start
	if n := len(l.cached); n > 0 && l.cached[n-1].seg == r.seg && l.cached[n-1].end == r.start {
		l.cached[n-1].end = r.end
		return
	}
	l.cached = append(l.cached, r)
}

// dropOld drops the oldest synced ranges from the page cache until cacheBytes are left: the
// newest bodies are the likeliest to be read (the records list shows the newest first, an
// export takes recent traffic), and the rest should not grow the cache with the store. A
// range's first page may hold the end of the range before; starting there, no page is left
// behind half-dropped.
func (l *spanLog) dropOld() {
	for l.cachedBytes > l.cacheBytes && len(l.cached) > 0 {
		r := &l.cached[0]
		n := min(r.end-r.start, l.cachedBytes-l.cacheBytes)
		l.mu.RLock()
		if f := l.files[r.seg]; f != nil {
			from := r.start &^ (dropAlign - 1)
			dropCachedRange(f, from, r.start+n-from)
		}
		l.mu.RUnlock()
		r.start += n
		l.cachedBytes -= n
		if r.start >= r.end {
			l.cached = l.cached[1:]
		}
	}
}

// maxPointerLen bounds a pointer's length: marker, six uvarints, checksum.
const maxPointerLen = 1 + binary.MaxVarintLen32 + binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 + 4

// appendBlockPointer appends the spans-bucket value of a span in a block (see spanblock.go):
// where the block is stored (segment, offset, length), where the span is in the decompressed
// block (start, length), the bytes it counts as live (share) and the block's checksum.
func appendBlockPointer(p []byte, seg uint32, off int64, stored int, crc uint32, at bodyAt, share int64) []byte {
	p = append(p, spanBlockMarker)
	p = binary.AppendUvarint(p, uint64(seg))
	p = binary.AppendUvarint(p, uint64(off))
	p = binary.AppendUvarint(p, uint64(stored))
	p = binary.AppendUvarint(p, uint64(at.start))
	p = binary.AppendUvarint(p, uint64(at.n))
	p = binary.AppendUvarint(p, uint64(share))
	return binary.LittleEndian.AppendUint32(p, crc)
}

// A spanRef is a decoded span pointer.
type spanRef struct {
	seg   uint32
	off   int64
	n     int    // stored bytes: the body, or the block it is in
	crc   uint32 // of the stored bytes
	block bool   // the stored bytes are a block, of which the span is start:start+size
	start int
	size  int
	share int64 // the live bytes the span counts for in its segment
}

var errBadPointer = errors.New("malformed span log pointer")

func parseSpanPointer(p []byte) (spanRef, error) {
	if len(p) == 0 || (p[0] != spanLogMarker && p[0] != spanBlockMarker) {
		return spanRef{}, errBadPointer
	}
	block := p[0] == spanBlockMarker
	p = p[1:]
	var vals [6]uint64
	n := 3
	if block {
		n = 6
	}
	for i := range vals[:n] {
		v, k := binary.Uvarint(p)
		if k <= 0 {
			return spanRef{}, errBadPointer
		}
		vals[i], p = v, p[k:]
	}
	if len(p) != 4 || vals[0] == 0 || vals[0] > 1<<32-1 || vals[1] > 1<<62 || vals[2] > 1<<31 ||
		vals[3] > 1<<31 || vals[4] > 1<<31 || vals[5] > 1<<31 {
		return spanRef{}, errBadPointer
	}
	ref := spanRef{seg: uint32(vals[0]), off: int64(vals[1]), n: int(vals[2]), crc: binary.LittleEndian.Uint32(p), share: int64(vals[2])}
	if block {
		if vals[5] == 0 {
			return spanRef{}, errBadPointer
		}
		ref.block, ref.start, ref.size, ref.share = true, int(vals[3]), int(vals[4]), int64(vals[5])
	}
	return ref, nil
}

// read returns the stored bytes a pointer points at, checked against its checksum.
func (l *spanLog) read(ref spanRef) ([]byte, error) {
	f, err := l.file(ref.seg)
	if err != nil {
		return nil, err
	}
	if ref.n > writeChunk { // a damaged pointer must not make a huge allocation
		if fi, err := f.Stat(); err != nil || ref.off+int64(ref.n) > fi.Size() {
			return nil, fmt.Errorf("span log segment %s at %d (%d bytes): past the end of the segment: the store is damaged (restore the store directory from a backup)", l.segmentPath(ref.seg), ref.off, ref.n)
		}
	}
	b := make([]byte, ref.n)
	if _, err := f.ReadAt(b, ref.off); err != nil {
		return nil, fmt.Errorf("read span log segment %d at %d (%d bytes): %w", ref.seg, ref.off, ref.n, err)
	}
	if crc32.Checksum(b, crcTable) != ref.crc {
		return nil, fmt.Errorf("span log segment %s at %d (%d bytes): checksum mismatch: the file is damaged (this span's trace cannot be shown; restore the store directory from a backup)", l.segmentPath(ref.seg), ref.off, ref.n)
	}
	return b, nil
}

// A bodyReader reads spans' OTLP bytes from their spans-bucket values: pointers into the log,
// or inline values of an older store. It keeps the block it decompressed last, so reading
// the spans of one trace decompresses their block once.
type bodyReader struct {
	l     *spanLog
	seg   uint32
	off   int64
	block []byte // decompressed; nil when there is none
}

// spanBytes returns the bytes of the span v stands for. They are the caller's, shared with
// nothing it may change (v lives in bbolt's mmap only during the transaction; spans of one
// block share its decompressed bytes, read-only).
func (r *bodyReader) spanBytes(v []byte) ([]byte, error) {
	switch {
	case len(v) > 0 && (v[0] == spanLogMarker || v[0] == spanBlockMarker):
		ref, err := parseSpanPointer(v)
		if err != nil {
			return nil, err
		}
		if !ref.block {
			b, err := r.l.read(ref)
			if err != nil {
				return nil, err
			}
			return decompress(b)
		}
		if r.block == nil || r.seg != ref.seg || r.off != ref.off {
			b, err := r.l.read(ref)
			if err != nil {
				return nil, err
			}
			block, err := s2.Decode(nil, b)
			if err != nil {
				return nil, fmt.Errorf("span log segment %s at %d: decompress block: %w: the file is damaged (this span's trace cannot be shown; restore the store directory from a backup)", r.l.segmentPath(ref.seg), ref.off, err)
			}
			r.seg, r.off, r.block = ref.seg, ref.off, block
		}
		if ref.start+ref.size > len(r.block) {
			return nil, fmt.Errorf("span log segment %s at %d: span at %d (%d bytes) past the block's %d bytes: the store is damaged (restore the store directory from a backup)", r.l.segmentPath(ref.seg), ref.off, ref.start, ref.size, len(r.block))
		}
		return r.block[ref.start : ref.start+ref.size : ref.start+ref.size], nil
	case len(v) > 0 && v[0] == compressedMarker:
		return decompress(v)
	default:
		return append([]byte(nil), v...), nil
	}
}

// file returns segment id's file, opening it on first use.
func (l *spanLog) file(id uint32) (*os.File, error) {
	l.mu.RLock()
	f := l.files[id]
	l.mu.RUnlock()
	if f != nil {
		return f, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f = l.files[id]; f != nil {
		return f, nil
	}
	f, err := os.Open(l.segmentPath(id))
	if err != nil {
		return nil, fmt.Errorf("open span log segment: %w", err)
	}
	l.files[id] = f
	return f, nil
}

// remove deletes the segment files of ids (none of them active), whose spans are all
// deleted in a committed transaction. The caller makes sure no reader still reads them.
func (l *spanLog) remove(ids []uint32) error {
	var errs []error
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if id == l.active {
			continue
		}
		if f := l.files[id]; f != nil {
			_ = f.Close()
			delete(l.files, id)
		}
		if err := os.Remove(l.segmentPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove span log segment: %w", err))
		}
		// Its pages went with the file.
		l.cached = slices.DeleteFunc(l.cached, func(r logRange) bool {
			if r.seg == id {
				l.cachedBytes -= r.end - r.start
				return true
			}
			return false
		})
	}
	return errors.Join(errs...)
}

// prune removes the segment files that hold nothing committed: those, other than the active
// one, without live bytes in the span_log bucket (see the crash-safety note above). It returns
// the segments it removed.
func (l *spanLog) prune(tx *bolt.Tx) ([]uint32, error) {
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	b := tx.Bucket(bucketSpanLog)
	var dead []uint32
	for _, id := range segs {
		if id != l.active && b.Get(segmentKey(id)) == nil {
			dead = append(dead, id)
		}
	}
	return dead, l.remove(dead)
}

// liveBytes sums the live bytes of every segment.
func liveBytes(tx *bolt.Tx) int64 {
	var n int64
	_ = tx.Bucket(bucketSpanLog).ForEach(func(_, v []byte) error {
		if len(v) == 8 {
			n += int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return n
}

// diskBytes is the size of the segment files.
func (l *spanLog) diskBytes() int64 {
	segs, _ := l.segments()
	var n int64
	for _, id := range segs {
		if fi, err := os.Stat(l.segmentPath(id)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func (l *spanLog) close() error {
	_ = l.wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for id, f := range l.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(l.files, id)
	}
	return errors.Join(errs...)
}

func segmentKey(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

// liveDelta counts, within one transaction, the bytes of span bodies put into and deleted from
// each segment; apply writes them into the span_log bucket.
type liveDelta map[uint32]int64

// count adds (sign +1) or takes away (sign -1) the live bytes of the body a spans-bucket
// value points at. Inline values are not in the log.
func (d liveDelta) count(v []byte, sign int64) {
	if len(v) == 0 || (v[0] != spanLogMarker && v[0] != spanBlockMarker) {
		return
	}
	if ref, err := parseSpanPointer(v); err == nil {
		d[ref.seg] += sign * ref.share
	}
}

// apply writes the counts into b and returns the segments left without live bytes.
func (d liveDelta) apply(b *bolt.Bucket) (emptied []uint32, err error) {
	for seg, delta := range d {
		if delta == 0 {
			continue
		}
		k := segmentKey(seg)
		var live int64
		if v := b.Get(k); len(v) == 8 {
			live = int64(binary.BigEndian.Uint64(v))
		}
		live += delta
		if live <= 0 {
			if err := b.Delete(k); err != nil {
				return nil, fmt.Errorf("span log accounting: %w", err)
			}
			emptied = append(emptied, seg)
			continue
		}
		if err := b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(live))); err != nil {
			return nil, fmt.Errorf("span log accounting: %w", err)
		}
	}
	clear(d)
	return emptied, nil
}
