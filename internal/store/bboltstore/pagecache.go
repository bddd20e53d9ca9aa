package bboltstore

import (
	"fmt"
	"os"
	"time"
)

// defaultCacheDropInterval is how often, at most, the writer asks the kernel to drop the
// file's cached pages that no reader has mapped (see cacheDropper).
const defaultCacheDropInterval = time.Second

// cacheDropper keeps the store file's page cache to the pages the process reads.
//
// bbolt writes pages with pwrite and reads them through its mmap. Most written pages are never
// read again: records and spans are appended by doc number, and a leaf that is full is not
// touched by the writer again; a query reads few of them. Yet each stays in the page cache, so
// the cache grows with the file. On machines where a new page-cache page is dear (on the
// benchmark VM the CPU per appended page grew 5–15× once the cache passed ~2 GiB, see
// docs/benchmarks.md, tenth round), that growth costs the writer more than the pages are
// worth. After a commit has synced, every written page is clean; POSIX_FADV_DONTNEED drops the
// clean pages that are not mapped into a process, which keeps the ones bbolt's readers and
// writer have touched (the B+tree's branches, the right edge of the appended buckets, the
// index pages merges rewrite) and lets go of the rest. A page dropped and later read again
// costs one read from disk.
type cacheDropper struct {
	path     string
	interval time.Duration // ≤ 0: never drop
	last     time.Time
}

// step drops the file's unmapped cached pages if interval has passed since the last time. It
// opens the file by path each time, so it follows compaction's swap of files.
func (d *cacheDropper) step(now time.Time) error {
	if d.interval <= 0 || now.Sub(d.last) < d.interval {
		return nil
	}
	d.last = now
	f, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("drop cached pages of %s: %w", d.path, err)
	}
	defer f.Close()
	if err := dropCachedPages(f); err != nil {
		return fmt.Errorf("drop cached pages of %s: %w", d.path, err)
	}
	return nil
}
