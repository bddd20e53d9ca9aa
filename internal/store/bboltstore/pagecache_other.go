//go:build !linux

package bboltstore

import "os"

// dropCachedRange does nothing where posix_fadvise is not available to Go.
func dropCachedRange(*os.File, int64, int64) {}
