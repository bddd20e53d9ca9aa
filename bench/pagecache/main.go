// Command pagecache measures what a store's writes cost the writing process as its file
// grows: it appends 16 KiB pages to a file with an fdatasync every 64 pages, as bbolt commits
// do, and prints the CPU (user + system) per appended page for each GiB, then the same for
// rewrites of random pages of the file. With -drop it advises the kernel after each sync that
// the pages just written are not needed (POSIX_FADV_DONTNEED), so the page cache does not grow.
//
// On the benchmark VM, appending past the first 2–3 GiB of page cache cost 5–15× more CPU per
// page than before, and with -drop it did not: docs/benchmarks.md, tenth round.
//
//	go run ./bench/pagecache -file /var/tmp/pagecache.test -gib 4 [-drop]
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	mathrand "math/rand/v2"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	pageBytes     = 16 << 10
	pagesPerSync  = 64
	pagesPerGiB   = (1 << 30) / pageBytes
	randomRewrite = 20000
)

func main() {
	path := flag.String("file", "pagecache.test", "file to write (removed at the end)")
	gib := flag.Int("gib", 4, "GiB to append")
	drop := flag.Bool("drop", false, "drop the written pages from the page cache after each sync")
	flag.Parse()
	if err := run(*path, *gib, *drop); err != nil {
		log.Fatal(err)
	}
}

func run(path string, gib int, drop bool) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create test file: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	page := make([]byte, pageBytes)
	if _, err := rand.Read(page); err != nil {
		return err
	}
	fd := int(f.Fd())
	sync := func(from, to int64) error {
		if err := unix.Fdatasync(fd); err != nil {
			return fmt.Errorf("fdatasync: %w", err)
		}
		if drop {
			if err := unix.Fadvise(fd, from, to-from, unix.FADV_DONTNEED); err != nil {
				return fmt.Errorf("fadvise: %w", err)
			}
		}
		return nil
	}
	var size int64
	for g := 1; g <= gib; g++ {
		c0, t0 := cpuTime(), time.Now()
		synced := size
		for i := range pagesPerGiB {
			if _, err := f.WriteAt(page, size); err != nil {
				return fmt.Errorf("append: %w", err)
			}
			size += pageBytes
			if i%pagesPerSync == pagesPerSync-1 {
				if err := sync(synced, size); err != nil {
					return err
				}
				synced = size
			}
		}
		c1 := cpuTime()
		for i := range randomRewrite {
			off := mathrand.Int64N(size/pageBytes) * pageBytes // cheap next to a write: crypto/rand's would count in the CPU
			if _, err := f.WriteAt(page, off); err != nil {
				return fmt.Errorf("rewrite: %w", err)
			}
			if i%pagesPerSync == pagesPerSync-1 {
				if err := unix.Fdatasync(fd); err != nil {
					return fmt.Errorf("fdatasync: %w", err)
				}
			}
		}
		c2 := cpuTime()
		fmt.Printf("GiB %d: append %6.1f µs CPU a page, random rewrite %6.1f µs CPU a page (%.1f s)\n", g,
			float64(c1-c0)/1e3/pagesPerGiB, float64(c2-c1)/1e3/randomRewrite, time.Since(t0).Seconds())
	}
	return nil
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
