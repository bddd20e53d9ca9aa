package bboltstore

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
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
	dropCachedRange(f, 0, 1<<20)
	if r, _ := residentPages(t, path, 0); r > 0 {
		t.Skipf("the file system under %s keeps %d dropped pages", dir, r)
	}
}

func TestSpanLog_KeepsOnlyTheNewestBytesCached(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cacheBytes int64
		// the share of the segment's pages left in the page cache, in percent
		minResident, maxResident int
	}{
		{name: "default (256 MiB)", cacheBytes: 0, minResident: 95, maxResident: 100},
		{name: "64 KiB", cacheBytes: 64 << 10, minResident: 1, maxResident: 40},
		{name: "none", cacheBytes: -1, minResident: 0, maxResident: 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			skipUnlessDroppable(t, dir)
			s, err := Open(dir, zap.NewNop(), Options{SpanLogCacheBytes: tc.cacheBytes})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < 40; i++ {
				writeTraces(t, s, 1+i*50, 50, 0)
			}
			seg := filepath.Join(dir, spanLogDir, "00000001.log")
			resident, total := residentPages(t, seg, 0)
			pct := 100 * resident / total
			t.Logf("%d of %d pages cached (%d%%)", resident, total, pct)
			if pct < tc.minResident || pct > tc.maxResident {
				t.Errorf("%d%% of the segment's pages cached, want %d–%d%%", pct, tc.minResident, tc.maxResident)
			}
			// Dropped bodies read back from the disk.
			for _, id := range []int{1, 1000, 2000} {
				wantSpans(t, s, id, 4)
			}
		})
	}
}
