//go:build !linux

package bboltstore

import "os"

// dropCachedPages does nothing where posix_fadvise is not available to Go.
func dropCachedPages(*os.File) error { return nil }
