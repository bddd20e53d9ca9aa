//go:build !unix

package errordetectprocessor

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
