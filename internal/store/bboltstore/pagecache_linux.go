package bboltstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCachedPages asks the kernel to drop f's clean cached pages that no process maps.
func dropCachedPages(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
