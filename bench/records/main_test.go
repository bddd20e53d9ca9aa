package main

import (
	"testing"
)

// TestSmoke runs the whole benchmark at a tiny size, so the program keeps working; the real
// figures come from running it by hand (docs/benchmarks.md).
func TestSmoke(t *testing.T) {
	*flagN, *flagBatch, *flagLoaders, *flagQueries, *flagDays = 300, 50, 2, 2, 2
	*flagDir = t.TempDir()
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
