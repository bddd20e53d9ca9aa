package bboltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// appendSpanPointer appends a spans-bucket value as schema 6 wrote it: a pointer at body v, a
// span compressed on its own, stored at off in segment seg.
func appendSpanPointer(p []byte, seg uint32, off int64, v []byte) []byte {
	p = append(p, spanLogMarker)
	p = binary.AppendUvarint(p, uint64(seg))
	p = binary.AppendUvarint(p, uint64(off))
	p = binary.AppendUvarint(p, uint64(len(v)))
	return binary.LittleEndian.AppendUint32(p, crc32.Checksum(v, crcTable))
}

func openSpanLogStore(t *testing.T, dir string, segmentBytes int64) *Store {
	t.Helper()
	s, err := Open(dir, zap.NewNop(), Options{SpanLogSegmentBytes: segmentBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// spanValues returns every value of the spans bucket.
func spanValues(t *testing.T, s *Store) [][]byte {
	t.Helper()
	var vals [][]byte
	if err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSpans).ForEach(func(_, v []byte) error {
			vals = append(vals, append([]byte(nil), v...))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return vals
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, spanLogDir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantSpans(t *testing.T, s store.Store, trace, n int) {
	t.Helper()
	spans, err := s.GetSpans(context.Background(), "p1", storetest.TraceHex(trace))
	if err != nil || len(spans) != n {
		t.Fatalf("spans of trace %d: %d, %v; want %d", trace, len(spans), err, n)
	}
	for _, sp := range spans {
		if sp.TraceIDHex() != storetest.TraceHex(trace) {
			t.Fatalf("trace %d: read a span of trace %s", trace, sp.TraceIDHex())
		}
	}
}

func TestSpanLog_BodiesLiveOutsideTheFile(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1, 200, 0)
	vals := spanValues(t, s)
	if len(vals) != 800 {
		t.Fatalf("%d spans stored, want 800", len(vals))
	}
	var bodies int64
	for _, v := range vals {
		ref, err := parseSpanPointer(v)
		if err != nil {
			t.Fatalf("spans bucket value %x: %v", v, err)
		}
		bodies += ref.share
	}
	size, err := s.Size()
	if err != nil {
		t.Fatal(err)
	}
	if size.LogLiveBytes != bodies || size.LogBytes < bodies {
		t.Fatalf("size %+v, the pointers add up to %d bytes", size, bodies)
	}
	wantSpans(t, s, 7, 4)

	// A restart reads them back and appends after them.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1000, 10, 0)
	wantSpans(t, s, 7, 4)
	wantSpans(t, s, 1005, 4)
	if got := segmentFiles(t, dir); len(got) != 1 {
		t.Fatalf("segments %v, want one", got)
	}
}

func TestSpanLog_RetentionGivesSegmentsBack(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 8<<10) // a few traces per segment
	old := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 30; i++ { // one commit each: segments fill one after the other
		writeTraces(t, s, 1+i*20, 20, old.Sub(base).Milliseconds())
	}
	writeTraces(t, s, 5000, 20, 0)
	before := segmentFiles(t, dir)
	if len(before) < 10 {
		t.Fatalf("%d segments, want many", len(before))
	}
	sizeBefore, _ := s.Size()
	n, err := s.DeleteBefore(context.Background(), base.Add(-24*time.Hour))
	if err != nil || n != 600 {
		t.Fatalf("deleted %d, %v; want 600", n, err)
	}
	after := segmentFiles(t, dir)
	if len(after) > 2 {
		t.Fatalf("segments after deleting all but the newest commit: %v (before: %d)", after, len(before))
	}
	sizeAfter, _ := s.Size()
	if sizeAfter.LogLiveBytes <= 0 || sizeAfter.LogLiveBytes*10 > sizeBefore.LogLiveBytes || sizeAfter.LogBytes >= sizeBefore.LogBytes/5 {
		t.Fatalf("size before %+v, after %+v", sizeBefore, sizeAfter)
	}
	wantLiveBytesOfPointers(t, s)
	wantSpans(t, s, 5010, 4)
	if _, err := s.GetSpans(context.Background(), "p1", storetest.TraceHex(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("spans of a deleted record: %v", err)
	}
	// Writing goes on in the active segment and beyond.
	writeTraces(t, s, 6000, 100, 0)
	wantSpans(t, s, 6099, 4)
}

func TestSpanLog_ReadersDuringRetention(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 16<<10)
	for i := 0; i < 20; i++ {
		writeTraces(t, s, 1+i*10, 10, int64(i)*1000)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				trace := 1 + i%200
				spans, err := s.GetSpans(ctx, "p1", storetest.TraceHex(trace))
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil || len(spans) != 4 {
					errs <- err
					return
				}
			}
		}()
	}
	cutoff := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for step := 1; step <= 19; step++ {
		if _, err := s.DeleteBefore(context.Background(), cutoff.Add(time.Duration(step)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("reader during retention: %v", err)
	}
	wantSpans(t, s, 195, 4)
}

func TestSpanLog_OpenRemovesSegmentsWithNothingCommitted(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1, 10, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Left by a crash: bytes of a commit that never happened at the end of the active
	// segment (1); a segment whose spans were all deleted before its file went (3); a new
	// segment that no commit reached (4, the newest). A file not named like a segment stays.
	active := segmentFiles(t, dir)[0]
	f, err := os.OpenFile(active, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte{0xee}, 3000)); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	other := filepath.Join(dir, spanLogDir, "00000000.log") // id 0 is never a segment
	unreferenced := filepath.Join(dir, spanLogDir, "00000003.log")
	newest := filepath.Join(dir, spanLogDir, "00000004.log")
	for _, p := range []string{other, unreferenced, newest} {
		if err := os.WriteFile(p, bytes.Repeat([]byte{0xee}, 100), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	s = openSpanLogStore(t, dir, 0)
	got := segmentFiles(t, dir)
	want := []string{other, active, newest}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("segments after open: %v, want %v (the unreferenced segment 3 removed, the newest kept)", got, want)
	}
	writeTraces(t, s, 100, 10, 0)
	wantSpans(t, s, 5, 4)
	wantSpans(t, s, 105, 4)
}

func TestSpanLog_DamagedBodyIsAnError(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1, 1, 0) // a block of its own
	writeTraces(t, s, 2, 2, 0)
	ref, err := parseSpanPointer(spanValues(t, s)[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(segmentFiles(t, dir)[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, ref.off+int64(ref.n)/2); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, ref.off+int64(ref.n)/2); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	_, err = s.GetSpans(context.Background(), "p1", storetest.TraceHex(1))
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("GetSpans over a damaged body: %v", err)
	}
	wantSpans(t, s, 2, 4)

	// A damaged pointer that claims a huge body is refused before anything is allocated.
	huge := binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint([]byte{spanLogMarker}, 1), 0), 1<<30)
	huge = append(huge, 0, 0, 0, 0)
	ref, err = parseSpanPointer(huge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.spanLog.read(ref); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Fatalf("a pointer past the segment's end: %v", err)
	}
}

func TestSpanPointer_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		seg uint32
		off int64
		n   int
	}{{1, 0, 0}, {1, 12345, 1500}, {1<<32 - 1, 1 << 40, 1 << 20}} {
		body := bytes.Repeat([]byte{7}, tc.n)
		p := appendSpanPointer(nil, tc.seg, tc.off, body)
		if len(p) > maxPointerLen {
			t.Fatalf("%d-byte pointer, max %d", len(p), maxPointerLen)
		}
		ref, err := parseSpanPointer(p)
		if err != nil || ref.seg != tc.seg || ref.off != tc.off || ref.n != tc.n || ref.block || ref.share != int64(tc.n) {
			t.Fatalf("round trip of %+v: %+v, %v", tc, ref, err)
		}
		at := bodyAt{start: uint32(tc.n / 3), n: uint32(tc.n / 2)}
		p = appendBlockPointer(nil, tc.seg, tc.off, tc.n, 0xfeedf00d, at, int64(tc.n)+1)
		if len(p) > maxPointerLen {
			t.Fatalf("%d-byte block pointer, max %d", len(p), maxPointerLen)
		}
		ref, err = parseSpanPointer(p)
		want := spanRef{seg: tc.seg, off: tc.off, n: tc.n, crc: 0xfeedf00d, block: true, start: tc.n / 3, size: tc.n / 2, share: int64(tc.n) + 1}
		if err != nil || ref != want {
			t.Fatalf("round trip of block pointer %+v: %+v, %v", want, ref, err)
		}
	}
}

func FuzzParseSpanPointer(f *testing.F) {
	f.Add(appendSpanPointer(nil, 3, 99, []byte("body")))
	f.Add(appendBlockPointer(nil, 3, 99, 1200, 0xdeadbeef, bodyAt{start: 500, n: 700}, 300))
	f.Add([]byte{spanBlockMarker, 1, 0, 10, 0, 10, 0, 0, 0, 0, 0})
	f.Add([]byte{spanLogMarker})
	f.Add([]byte{spanLogMarker, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		ref, err := parseSpanPointer(p)
		if err != nil {
			return
		}
		if ref.seg == 0 || ref.off < 0 || ref.n < 0 {
			t.Fatalf("accepted %x as %+v", p, ref)
		}
		again, err := parseSpanPointer(appendSpanPointer(nil, ref.seg, ref.off, make([]byte, ref.n)))
		if err != nil || again.seg != ref.seg || again.off != ref.off || again.n != ref.n {
			t.Fatalf("%+v re-encoded reads as %+v, %v", ref, again, err)
		}
		if ref.block {
			again, err := parseSpanPointer(appendBlockPointer(nil, ref.seg, ref.off, ref.n, ref.crc, bodyAt{start: uint32(ref.start), n: uint32(ref.size)}, ref.share))
			if err != nil || again != ref {
				t.Fatalf("%+v re-encoded reads as %+v, %v", ref, again, err)
			}
		}
		r := bodyReader{l: &spanLog{dir: t.TempDir(), files: map[uint32]*os.File{}}}
		if _, err := r.spanBytes(p); err == nil {
			t.Fatalf("an empty log read %x", p)
		}
	})
}

func TestSpanLog_BodyLargerThanAWrite(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	// Random text does not compress: the body is larger than one gathered write.
	rnd := make([]byte, writeChunk*3/2)
	for i, x := 0, uint64(88172645463325252); i < len(rnd); i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		rnd[i] = 'a' + byte(x%26)
	}
	spans := storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)
	big := storetest.MakeSpans(t, "p1", storetest.SpanSpec{Trace: 2, ID: 1, Name: "big", EndMS: 5, Attrs: map[string]any{"blob": string(rnd)}})
	spans = append(append(spans, big...), storetest.MakeSpans(t, "p1", storetest.AgentTrace(3, 0)...)...)
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	wantSpans(t, s, 1, 4)
	wantSpans(t, s, 3, 4)
	got, err := s.GetSpans(context.Background(), "p1", storetest.TraceHex(2))
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, big[0].Raw) {
		t.Fatalf("the large span read back: %d spans, %v", len(got), err)
	}
}

// A store of schema 5 keeps span bodies inline in the spans bucket: they still read, retention
// deletes them, and new spans go to the log.
func TestSpanLog_InlineValuesOfSchema5(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1, 20, -3_600_000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rewriteSpans(t, dir, func(_ string, raw []byte) []byte { return compress(raw) }, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketSpanLog); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("5"))
	})
	if err := os.RemoveAll(filepath.Join(dir, spanLogDir)); err != nil {
		t.Fatal(err)
	}

	reopenOlderSchema(t, dir, "inline spans")
}

// reopenOlderSchema opens the store in dir, rewritten as an older schema wrote its 20 traces,
// and checks what such a store must still do: they read, new traces go in, and retention
// deletes the old ones and counts their live bytes down.
func reopenOlderSchema(t *testing.T, dir, what string) *Store {
	t.Helper()
	s := openSpanLogStore(t, dir, 0)
	wantSpans(t, s, 3, 4)
	writeTraces(t, s, 100, 5, 0)
	wantSpans(t, s, 102, 4)
	n, err := s.DeleteBefore(context.Background(), time.Date(2026, 11, 25, 11, 30, 0, 0, time.UTC))
	if err != nil || n != 20 {
		t.Fatalf("retention over %s: deleted %d, %v; want 20", what, n, err)
	}
	wantLiveBytesOfPointers(t, s)
	wantSpans(t, s, 104, 4)
	return s
}

// rewriteSpans rewrites the spans bucket of the closed store in dir as an older schema wrote
// it: each span's value becomes value(its key, its OTLP bytes), and finish adjusts the rest in
// the same transaction. The spans must be in blocks of segment 1.
func rewriteSpans(t *testing.T, dir string, value func(k string, raw []byte) []byte, finish func(tx *bolt.Tx) error) {
	t.Helper()
	seg, err := os.ReadFile(filepath.Join(dir, spanLogDir, "00000001.log"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpans)
		vals := map[string][]byte{}
		if err := b.ForEach(func(k, v []byte) error {
			ref, err := parseSpanPointer(v)
			if err != nil || !ref.block || ref.seg != 1 {
				return fmt.Errorf("value %x: %+v, %v", v, ref, err)
			}
			raw, err := s2.Decode(nil, seg[ref.off:ref.off+int64(ref.n)])
			if err != nil {
				return err
			}
			vals[string(k)] = value(string(k), raw[ref.start:ref.start+ref.size])
			return nil
		}); err != nil {
			return err
		}
		for k, v := range vals {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return finish(tx)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// wantLiveBytesOfPointers checks that the span_log bucket counts, in all, the live bytes of
// the store's pointers, and that every span value left is a pointer.
func wantLiveBytesOfPointers(t *testing.T, s *Store) {
	t.Helper()
	size, err := s.Size()
	if err != nil {
		t.Fatal(err)
	}
	var live int64
	for _, v := range spanValues(t, s) {
		ref, err := parseSpanPointer(v)
		if err != nil {
			t.Fatalf("a span value is not a pointer: %v", err)
		}
		live += ref.share
	}
	if live != size.LogLiveBytes || live == 0 {
		t.Fatalf("span_log counts %d live bytes, the pointers %d", size.LogLiveBytes, live)
	}
}

// A store of schema 6 points at spans compressed one by one: they still read, retention
// counts them down and gives their segment back, and new spans go in blocks.
func TestSpanLog_PointersOfSchema6(t *testing.T) {
	dir := t.TempDir()
	s := openSpanLogStore(t, dir, 0)
	writeTraces(t, s, 1, 20, -3_600_000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Every body as schema 6 stored it, each compressed alone, into segment 2.
	var old []byte
	rewriteSpans(t, dir, func(_ string, raw []byte) []byte {
		body := compress(raw)
		p := appendSpanPointer(nil, 2, int64(len(old)), body)
		old = append(old, body...)
		return p
	}, func(tx *bolt.Tx) error {
		live := tx.Bucket(bucketSpanLog)
		if err := live.Delete(segmentKey(1)); err != nil {
			return err
		}
		if err := live.Put(segmentKey(2), binary.BigEndian.AppendUint64(nil, uint64(len(old)))); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("6"))
	})
	if err := os.Remove(filepath.Join(dir, spanLogDir, "00000001.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spanLogDir, "00000002.log"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spanLogDir, "00000003.log"), nil, 0o600); err != nil {
		t.Fatal(err) // the active segment new spans go to
	}

	s = reopenOlderSchema(t, dir, "schema-6 pointers")
	if got := segmentFiles(t, dir); len(got) != 1 || !strings.HasSuffix(got[0], "00000003.log") {
		t.Fatalf("segments after retention: %v, want only the active 00000003.log", got)
	}
	for _, v := range spanValues(t, s) {
		if ref, err := parseSpanPointer(v); err != nil || !ref.block {
			t.Fatalf("a value left after retention: %+v, %v", ref, err)
		}
	}
}
