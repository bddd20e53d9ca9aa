package pgstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// WriteSpans implements store.Store. The spans join the next transaction of one of the
// writers together with other callers' spans (group commit); it returns after COMMIT.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	if len(spans) == 0 {
		return nil
	}
	req := &writeRequest{spans: spans, done: make(chan error, 1)}
	return store.Submit(ctx, s.reqs, s.closing, req, req.done)
}

type writeRequest struct {
	spans []store.Span
	done  chan error
}

// writeLoop is one writer: it takes a request and whatever others are already queued, up
// to MaxBatchSpans, and commits them in one transaction. Requests pile up while the
// writers are busy, so batches grow with load by themselves.
func (s *Store) writeLoop() {
	defer s.writers.Done()
	for {
		select {
		case first := <-s.reqs:
			s.commitGroup(first)
		case <-s.closing:
			for {
				select {
				case r := <-s.reqs:
					s.commitGroup(r)
				default:
					return
				}
			}
		}
	}
}

func (s *Store) commitGroup(first *writeRequest) {
	group := []*writeRequest{first}
	n := len(first.spans)
collect:
	for n < s.opts.MaxBatchSpans {
		select {
		case r := <-s.reqs:
			group = append(group, r)
			n += len(r.spans)
		default:
			break collect
		}
	}
	spans := first.spans
	if len(group) > 1 {
		spans = make([]store.Span, 0, n)
		for _, r := range group {
			spans = append(spans, r.spans...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CommitTimeout)
	err := s.writeBatch(ctx, spans)
	cancel()
	if err != nil {
		s.logger.Error("Store commit failed", zap.Int("requests", len(group)), zap.Int("spans", n), zap.Error(err))
	}
	for _, r := range group {
		r.done <- err
	}
}

// writeBatch inserts the new spans and folds them into their records and runs in one
// transaction.
func (s *Store) writeBatch(ctx context.Context, spans []store.Span) error {
	batch := prepareSpans(spans)
	n := len(batch)
	projects := make([]string, n)
	traces := make([][]byte, n)
	ids := make([][]byte, n)
	starts := make([]int64, n)
	raws := make([][]byte, n)
	for i, sp := range batch {
		projects[i], traces[i], ids[i], starts[i], raws[i] = sp.Project, sp.TraceID[:], sp.SpanID[:], sp.Start, sp.Raw
	}
	var dirty map[runKey]bool
	err := s.writeTx(ctx, fmt.Sprintf("store %d spans", n), func(tx pgx.Tx) error {
		dirty = map[runKey]bool{}
		// Inserted in key order, the order every writer uses, so that two writers waiting
		// on each other's not yet committed duplicates cannot deadlock.
		rows, err := tx.Query(ctx, `INSERT INTO spans (project, trace_id, span_id, start_ns, raw)
			SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bigint[], $5::bytea[])
			ON CONFLICT DO NOTHING RETURNING project, trace_id, span_id`, projects, traces, ids, starts, raws)
		if err != nil {
			return fmt.Errorf("insert spans: %w", err)
		}
		inserted := map[string]bool{}
		for rows.Next() {
			var p string
			var t, sid []byte
			if err := rows.Scan(&p, &t, &sid); err != nil {
				rows.Close()
				return fmt.Errorf("insert spans: %w", err)
			}
			inserted[spanKey(p, t, sid)] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert spans: %w", err)
		}
		var groups []*traceGroup
		for _, sp := range batch {
			if !inserted[spanKey(sp.Project, sp.TraceID[:], sp.SpanID[:])] {
				continue
			}
			if len(groups) == 0 || groups[len(groups)-1].project != sp.Project || groups[len(groups)-1].tid != [16]byte(sp.TraceID) {
				groups = append(groups, &traceGroup{project: sp.Project, tid: [16]byte(sp.TraceID)})
			}
			g := groups[len(groups)-1]
			g.spans = append(g.spans, sp)
		}
		return s.fold(ctx, tx, groups, dirty)
	})
	if err == nil {
		s.markDirty(dirty)
	}
	return err
}

func spanKey(project string, tid, sid []byte) string {
	return project + "\x00" + string(tid) + string(sid)
}

// prepareSpans cleans the text PostgreSQL cannot hold and returns the distinct spans in
// (project, trace, span) order.
func prepareSpans(spans []store.Span) []*store.Span {
	out := make([]*store.Span, 0, len(spans))
	for i := range spans {
		sp := cleanSpan(spans[i])
		out = append(out, &sp)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Project != b.Project {
			return a.Project < b.Project
		}
		if c := bytes.Compare(a.TraceID[:], b.TraceID[:]); c != 0 {
			return c < 0
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:]) < 0
	})
	uniq := out[:0]
	for i, sp := range out {
		if i > 0 && sp.Project == out[i-1].Project && sp.TraceID == out[i-1].TraceID && sp.SpanID == out[i-1].SpanID {
			continue
		}
		uniq = append(uniq, sp)
	}
	return uniq
}

func cleanSpan(sp store.Span) store.Span {
	for _, f := range []*string{&sp.Project, &sp.Name, &sp.Kind, &sp.Service, &sp.StatusMessage, &sp.Source, &sp.Input,
		&sp.Output, &sp.Model, &sp.RunID, &sp.TestcaseID, &sp.Expected, &sp.UserID, &sp.SessionID,
		&sp.InputMessages, &sp.OutputMessages} {
		*f = clean(*f)
	}
	if sp.Metadata != nil {
		sp.Metadata = cleanMap(sp.Metadata)
	}
	if sp.Flags != nil {
		flags := make([]llmschema.Flag, len(sp.Flags))
		for i, f := range sp.Flags {
			f.Code, f.Category, f.Severity, f.Message = clean(f.Code), clean(f.Category), clean(f.Severity), clean(f.Message)
			f.Evidence, f.SpanID, f.Source = clean(f.Evidence), clean(f.SpanID), clean(f.Source)
			flags[i] = f
		}
		sp.Flags = flags
	}
	return sp
}

// traceGroup is the newly inserted spans of one record.
type traceGroup struct {
	project string
	tid     [16]byte
	spans   []*store.Span
}

// change is a record moving from old to rec (nil old: created; nil rec: deleted).
type change struct {
	old, rec *store.Record
}

// fold locks the groups' records, folds the new spans into them as last committed, and
// writes the records and their runs.
func (s *Store) fold(ctx context.Context, tx pgx.Tx, groups []*traceGroup, dirty map[runKey]bool) error {
	if len(groups) == 0 {
		return nil
	}
	keys := make([]int64, len(groups))
	projects := make([]string, len(groups))
	tids := make([][]byte, len(groups))
	for i, g := range groups {
		keys[i] = lockKey(g.project, g.tid[:])
		projects[i], tids[i] = g.project, g.tid[:]
	}
	if err := lockAll(ctx, tx, keys); err != nil {
		return err
	}
	existing, err := loadRecords(ctx, tx, projects, tids, "")
	if err != nil {
		return err
	}
	changes := make([]change, 0, len(groups))
	b := &pgx.Batch{}
	for _, g := range groups {
		id := hex.EncodeToString(g.tid[:])
		old := existing[g.project+"\x00"+id]
		var rec *store.Record
		if old != nil {
			rec = cloneRecord(old)
		} else {
			rec = store.NewRecord(g.project, id)
		}
		// Fold gives the same record for every order; folding a batch in start order also
		// makes list fields (models, flags) as a single node receiving the trace would.
		sort.SliceStable(g.spans, func(i, j int) bool { return g.spans[i].Start < g.spans[j].Start })
		for _, sp := range g.spans {
			rec.Fold(sp)
		}
		args, err := recordArgs(rec)
		if err != nil {
			return err
		}
		b.Queue(upsertRecord, args...)
		changes = append(changes, change{old: old, rec: rec})
	}
	if err := sendBatch(ctx, tx, b, "write records"); err != nil {
		return err
	}
	return s.applyRuns(ctx, tx, changes, dirty)
}

func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, what string) error {
	if b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	for i := 0; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// loadRecords reads records by (project, trace) pairs, keyed project NUL trace hex. A
// non-empty suffix is appended to the query (e.g. a condition or FOR UPDATE).
func loadRecords(ctx context.Context, tx pgx.Tx, projects []string, tids [][]byte, suffix string) (map[string]*store.Record, error) {
	rows, err := tx.Query(ctx, "SELECT "+recordColumns+` FROM records
		WHERE (project, trace_id) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))`+suffix, projects, tids)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	out := map[string]*store.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		out[r.ProjectID+"\x00"+r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}

func cloneRecord(r *store.Record) *store.Record {
	c := *r
	c.Models = append([]string{}, r.Models...)
	c.Flags = append([]llmschema.Flag{}, r.Flags...)
	c.Scores = maps.Clone(r.Scores)
	c.Metadata = maps.Clone(r.Metadata)
	return &c
}
