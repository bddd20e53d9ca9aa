package bboltstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCachedRange asks the kernel to drop f's clean cached pages in [off, off+n).
func dropCachedRange(f *os.File, off, n int64) {
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED)
}
