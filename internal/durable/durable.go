// Package durable holds what makes file-system changes survive a crash beyond fsync of a
// file's own data.
package durable

import (
	"fmt"
	"os"
	"runtime"
)

// SyncDir makes the entries of dir (files created, renamed or removed in it) durable. On
// Windows, where a directory cannot be synced and NTFS journals its entries, it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
