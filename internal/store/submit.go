package store

import (
	"context"
	"fmt"
)

// Submit hands req to a backend's writer goroutine through reqs and waits for its result on
// done. It is the caller side of group commit shared by the backends: a full queue or a
// cancelled context is reported with what was waited for, and a closed store with ErrClosed.
func Submit[R any](ctx context.Context, reqs chan<- R, closing <-chan struct{}, req R, done <-chan error) error {
	select {
	case <-closing:
		return ErrClosed
	default:
	}
	select {
	case reqs <- req:
	case <-closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("store write queue full: %w", ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The write may still commit; a client retry is deduplicated by span ID.
		return fmt.Errorf("waiting for store commit: %w", ctx.Err())
	}
}
