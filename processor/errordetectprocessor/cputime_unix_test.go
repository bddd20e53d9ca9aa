//go:build unix

package errordetectprocessor

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of this process. The benchmark reports it next
// to wall time because on a shared machine wall time also counts waiting for a core.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
