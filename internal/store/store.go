// Package store defines how tracehound persists spans and the trace-level records assembled
// from them. A backend (bbolt today) implements Store; the conformance suite in storetest
// holds every backend to the same behaviour.
package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when a record or trace does not exist in the caller's project.
var ErrNotFound = errors.New("not found")

// ErrBadCursor is returned when a pagination cursor cannot be decoded.
var ErrBadCursor = errors.New("bad cursor")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// Store persists spans and keeps one Record per (project, trace) up to date.
type Store interface {
	// WriteSpans stores the spans and folds them into their records. When it returns nil
	// the spans are durable on disk. Spans already stored (same project, trace ID and span
	// ID) are ignored, so client retries never double count.
	WriteSpans(ctx context.Context, spans []Span) error
	// ListRecords returns records of a project, newest first.
	ListRecords(ctx context.Context, project string, q Query) (Page, error)
	// GetRecord returns one record of a project or ErrNotFound.
	GetRecord(ctx context.Context, project, traceID string) (*Record, error)
	// GetSpans returns all spans of a trace in a project, ordered by start time, or ErrNotFound.
	GetSpans(ctx context.Context, project, traceID string) ([]Span, error)
	// Close flushes pending writes and releases the store.
	Close() error
}

// Query selects a page of records.
type Query struct {
	// Limit is the page size; backends clamp it to [1, MaxLimit].
	Limit int
	// Cursor is the opaque NextCursor of a previous page, or empty for the first page.
	Cursor string
}

// Page is one page of records plus the cursor of the next page ("" when there is none).
type Page struct {
	Records    []*Record
	NextCursor string
}

// Limits of a page.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// ClampLimit applies the default and maximum page size.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}
