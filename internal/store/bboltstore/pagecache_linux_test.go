package bboltstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/tracehound/tracehound/internal/store/storetest"
)

// residentPages counts the OS pages of the first size bytes of the file at path (all of it if
// size is 0) that are in the page cache, and all those pages. mincore on a fresh read-only
// mapping reports residency without faulting pages in.
func residentPages(t *testing.T, path string, size int64) (resident, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if size == 0 || size > fi.Size() {
		size = fi.Size()
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	ps := os.Getpagesize()
	vec := make([]byte, (len(m)+ps-1)/ps)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec)
}

// skipUnlessDroppable skips the test where the file system keeps clean pages regardless of
// POSIX_FADV_DONTNEED (tmpfs does: its pages have nowhere else to live).
func skipUnlessDroppable(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "probe")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := dropCachedPages(f); err != nil {
		t.Skipf("posix_fadvise refused here: %v", err)
	}
	if r, _ := residentPages(t, path, 0); r > 0 {
		t.Skipf("the file system under %s keeps %d dropped pages", dir, r)
	}
}

func TestCacheDropper_KeepsOnlyMappedPages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		// the share of the file's pages that may be cached after the writes, in percent
		minResident, maxResident int
	}{
		{name: "keep", interval: -1, minResident: 90, maxResident: 100},
		{name: "drop after every commit", interval: time.Nanosecond, minResident: 0, maxResident: 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			skipUnlessDroppable(t, dir)
			s, err := Open(dir, zap.NewNop(), Options{CacheDropInterval: tc.interval})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < 40; i++ {
				writeTraces(t, s, 1+i*100, 100, 1_700_000_000_000)
			}
			// bbolt grows the file ahead of its data; pages past the data were never written.
			var used int64
			if err := s.view(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
				t.Fatal(err)
			}
			resident, total := residentPages(t, s.Path(), used)
			pct := 100 * resident / total
			t.Logf("%d of %d pages cached (%d%%)", resident, total, pct)
			if pct < tc.minResident || pct > tc.maxResident {
				t.Errorf("%d%% of the file's pages cached, want %d–%d%%", pct, tc.minResident, tc.maxResident)
			}
			// Dropped pages are read back from the file.
			for _, id := range []int{1, 2_000, 4_000} {
				r, err := s.GetRecord(context.Background(), "p1", storetest.TraceHex(id))
				if err != nil || r.SpanCount != 4 {
					t.Fatalf("record %d after the writes: %+v, %v", id, r, err)
				}
				if _, err := s.GetSpans(context.Background(), "p1", storetest.TraceHex(id)); err != nil {
					t.Fatalf("spans of record %d: %v", id, err)
				}
			}
		})
	}
}

func TestCacheDropper_Interval(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := cacheDropper{path: path, interval: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	if err := d.step(t0); err != nil || !d.last.Equal(t0) {
		t.Fatalf("first step: last %v, %v", d.last, err)
	}
	if err := d.step(t0.Add(30 * time.Second)); err != nil || !d.last.Equal(t0) {
		t.Fatalf("step within the interval dropped: last %v, %v", d.last, err)
	}
	if err := d.step(t0.Add(time.Minute)); err != nil || !d.last.Equal(t0.Add(time.Minute)) {
		t.Fatalf("step after the interval: last %v, %v", d.last, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := d.step(t0.Add(2 * time.Minute)); err == nil {
		t.Fatal("a missing file dropped without error")
	}
	off := cacheDropper{path: path, interval: -1}
	if err := off.step(t0); err != nil || !off.last.IsZero() {
		t.Fatalf("a negative interval dropped: last %v, %v", off.last, err)
	}
}
