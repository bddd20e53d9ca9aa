// Package store defines how tracehound persists spans and the trace-level records assembled
// from them. A backend (bbolt today) implements Store; the conformance suite in storetest
// holds every backend to the same behaviour.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a record or trace does not exist in the caller's project.
var ErrNotFound = errors.New("not found")

// ErrBadCursor is returned when a pagination cursor cannot be decoded.
var ErrBadCursor = errors.New("bad cursor")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// ErrInvalid is returned (wrapped, with the reason) when a request cannot be served as asked,
// e.g. a score without a name.
var ErrInvalid = errors.New("invalid request")

// Store persists spans and keeps one Record per (project, trace) up to date, with the
// indexes, run aggregates and per-project objects (saved views, datasets) built on them.
// Every method is scoped to one project: nothing of another project is ever visible.
type Store interface {
	// WriteSpans stores the spans and folds them into their records. When it returns nil
	// the spans are durable on disk, and the store holds no reference to their Raw forms
	// (the caller may reuse that memory). Spans already stored (same project, trace ID and
	// span ID) are ignored, so client retries never double count.
	WriteSpans(ctx context.Context, spans []Span) error
	// ListRecords returns a page of a project's records that match q.Filter, in q.Sort
	// order (newest first by default). Cursors stay valid while records arrive; a cursor
	// from a different sort is ErrBadCursor.
	ListRecords(ctx context.Context, project string, q Query) (Page, error)
	// GetRecord returns one record of a project or ErrNotFound.
	GetRecord(ctx context.Context, project, traceID string) (*Record, error)
	// GetSpans returns all spans of a trace in a project, ordered by start time, or ErrNotFound.
	GetSpans(ctx context.Context, project, traceID string) ([]Span, error)
	// PutScore sets (or replaces) the named score on a record; ErrNotFound when there is no
	// such record. Scores survive later spans re-folding the record.
	PutScore(ctx context.Context, project, traceID, name string, s Score) error
	// ListRuns returns runs, most recently seen first.
	ListRuns(ctx context.Context, project string, q RunQuery) (RunPage, error)
	// GetRun returns one run or ErrNotFound.
	GetRun(ctx context.Context, project, runID string) (*Run, error)
	// Stats attributes cost, tokens, latency and errors to groups and time buckets.
	Stats(ctx context.Context, project string, q StatsQuery) (*Stats, error)
	// PutObject stores a small named JSON document of a kind (e.g. "view", "dataset").
	PutObject(ctx context.Context, project, kind, name string, body []byte) error
	// GetObject returns a stored document or ErrNotFound.
	GetObject(ctx context.Context, project, kind, name string) ([]byte, error)
	// ListObjects returns all documents of a kind, ordered by name.
	ListObjects(ctx context.Context, project, kind string) ([]Object, error)
	// DeleteObject removes a document; ErrNotFound when there is none.
	DeleteObject(ctx context.Context, project, kind, name string) error
	// DeleteBefore removes, in every project, the records that started before cutoff,
	// with their spans and index entries, and returns how many it removed.
	DeleteBefore(ctx context.Context, cutoff time.Time) (int, error)
	// Close flushes pending writes and releases the store.
	Close() error
}

// Object is one stored document.
type Object struct {
	Name string
	Body []byte
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

// Each calls fn for every record matching q, page by page (each page is its own read, so
// a long export never pins the store), in q.Sort order. q.Limit is the page size.
func Each(ctx context.Context, st Store, project string, q Query, fn func(*Record) error) error {
	if q.Limit <= 0 {
		q.Limit = 500
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := st.ListRecords(ctx, project, q)
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}
