package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

type runKey struct{ project, id string }

// mergeRun adds src into dst. Unlike RunAgg.Apply it keeps score entries whose count sums
// to zero while their value sum does not (a score replaced by another value), because a
// delta is not a whole run; finishRun drops them once all rows are merged.
func mergeRun(dst, src *store.RunAgg) {
	dst.RecordCount += src.RecordCount
	dst.StatusCounts.OK += src.StatusCounts.OK
	dst.StatusCounts.Error += src.StatusCounts.Error
	dst.StatusCounts.Flagged += src.StatusCounts.Flagged
	dst.Usage.Input += src.Usage.Input
	dst.Usage.Output += src.Usage.Output
	dst.Usage.CacheRead += src.Usage.CacheRead
	dst.Usage.CacheWrite += src.Usage.CacheWrite
	dst.Usage.Total = dst.Usage.Input + dst.Usage.Output
	dst.CostUSD += src.CostUSD
	if dst.Latency == nil {
		dst.Latency = store.Hist{}
	}
	for b, n := range src.Latency {
		if dst.Latency[b] += n; dst.Latency[b] == 0 {
			delete(dst.Latency, b)
		}
	}
	if dst.Scores == nil {
		dst.Scores = map[string]*store.ScoreAgg{}
	}
	for name, s := range src.Scores {
		d := dst.Scores[name]
		if d == nil {
			d = &store.ScoreAgg{}
			dst.Scores[name] = d
		}
		d.Count += s.Count
		d.Numeric += s.Numeric
		d.Sum += s.Sum
		d.Passed += s.Passed
		d.Failed += s.Failed
		if *d == (store.ScoreAgg{}) {
			delete(dst.Scores, name)
		}
	}
	if src.FirstSeen != 0 && (dst.FirstSeen == 0 || src.FirstSeen < dst.FirstSeen) {
		dst.FirstSeen = src.FirstSeen
	}
	if src.LastSeen > dst.LastSeen {
		dst.LastSeen = src.LastSeen
	}
}

// finishRun turns the merge of all of a run's rows into the run, as RunAgg.Apply keeps it.
func finishRun(a *store.RunAgg) {
	for name, s := range a.Scores {
		if s.Count == 0 {
			delete(a.Scores, name)
		}
	}
	if a.RecordCount == 0 {
		a.CostUSD = 0
	}
}

// applyRuns appends, per run the changes touch, one delta row: the old records'
// contributions removed and the new ones added.
func (s *Store) applyRuns(ctx context.Context, tx pgx.Tx, changes []change, dirty map[runKey]bool) error {
	deltas := map[runKey]*store.RunAgg{}
	var order []runKey
	contribute := func(r *store.Record, sign int64) {
		if r == nil || r.RunID == "" {
			return
		}
		k := runKey{r.ProjectID, string(r.RunID)}
		d := deltas[k]
		if d == nil {
			d = store.NewRunAgg(k.id)
			deltas[k] = d
			order = append(order, k)
		}
		c := store.NewRunAgg(k.id)
		c.Apply(r, sign)
		mergeRun(d, c)
	}
	for _, c := range changes {
		contribute(c.old, -1)
		contribute(c.rec, 1)
	}
	b := &pgx.Batch{}
	for _, k := range order {
		v, err := json.Marshal(deltas[k])
		if err != nil {
			return fmt.Errorf("encode run %q: %w", k.id, err)
		}
		b.Queue("INSERT INTO run_deltas (project, run_id, last_seen, agg) VALUES ($1, $2, $3, $4)", k.project, k.id, deltas[k].LastSeen, string(v))
		dirty[k] = true
	}
	return sendBatch(ctx, tx, b, "write run deltas")
}

// markDirty queues runs for compaction after their deltas committed.
func (s *Store) markDirty(runs map[runKey]bool) {
	if len(runs) == 0 {
		return
	}
	s.dirtyMu.Lock()
	for k := range runs {
		s.dirty[k] = true
	}
	s.dirtyMu.Unlock()
}

// compactLoop merges the delta rows of the runs this store wrote, so that reading a run
// stays one or a few rows however many writes it had.
func (s *Store) compactLoop() {
	defer s.compactor.Done()
	t := time.NewTicker(s.opts.CompactInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.compactDirty()
		case <-s.closing:
			s.compactDirty()
			return
		}
	}
}

func (s *Store) compactDirty() {
	s.dirtyMu.Lock()
	runs := s.dirty
	s.dirty = map[runKey]bool{}
	s.dirtyMu.Unlock()
	for k := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.CommitTimeout)
		err := s.compactRun(ctx, k)
		cancel()
		if err != nil && !errors.Is(err, errNothingToCompact) && !errors.Is(err, store.ErrClosed) {
			s.logger.Warn("Run compaction failed; its rows stay and are merged on read", zap.String("run", k.id), zap.Error(err))
		}
	}
}

// compactRun replaces a run's rows by their merge. Rows committed meanwhile are not seen by
// the DELETE and stay beside the merged row; two compactions of one run each merge the
// rows they deleted. Either way the sum of the rows is unchanged.
func (s *Store) compactRun(ctx context.Context, k runKey) error {
	return s.writeTx(ctx, "compact run "+k.id, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "DELETE FROM run_deltas WHERE project = $1 AND run_id = $2 RETURNING agg", k.project, k.id)
		if err != nil {
			return err
		}
		a, n, err := mergeRows(k.id, rows)
		if err != nil || n <= 1 {
			if err == nil {
				err = errNothingToCompact
			}
			return err
		}
		finishRun(a)
		if a.RecordCount <= 0 {
			return nil
		}
		v, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode run %q: %w", k.id, err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO run_deltas (project, run_id, last_seen, agg) VALUES ($1, $2, $3, $4)", k.project, k.id, a.LastSeen, string(v))
		return err
	})
}

// errNothingToCompact rolls back a compaction that found at most one row.
var errNothingToCompact = errors.New("nothing to compact")

func mergeRows(id string, rows pgx.Rows) (*store.RunAgg, int, error) {
	defer rows.Close()
	a := store.NewRunAgg(id)
	n := 0
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return nil, n, err
		}
		d := store.NewRunAgg(id)
		if err := json.Unmarshal(v, d); err != nil {
			return nil, n, fmt.Errorf("decode run %q: %w", id, err)
		}
		mergeRun(a, d)
		n++
	}
	return a, n, rows.Err()
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, project, runID string) (*store.Run, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, "SELECT agg FROM run_deltas WHERE project = $1 AND run_id = $2", clean(project), clean(runID))
	if err != nil {
		return nil, fmt.Errorf("read run %q: %w", runID, err)
	}
	a, _, err := mergeRows(runID, rows)
	if err != nil {
		return nil, fmt.Errorf("read run %q: %w", runID, err)
	}
	finishRun(a)
	if a.RecordCount <= 0 {
		return nil, store.ErrNotFound
	}
	run := a.Run()
	return &run, nil
}

// ListRuns implements store.Store: most recently seen first, then by run ID.
func (s *Store) ListRuns(ctx context.Context, project string, q store.RunQuery) (store.RunPage, error) {
	done, err := s.read()
	if err != nil {
		return store.RunPage{}, err
	}
	defer done()
	limit := store.ClampLimit(q.Limit)
	args := []any{clean(project)}
	having := "sum((agg->>'record_count')::bigint) > 0"
	if q.Cursor != "" {
		c, ok := store.DecodeRunCursor(q.Cursor)
		if !ok {
			return store.RunPage{}, store.ErrBadCursor
		}
		having += " AND (max(last_seen) < $2 OR max(last_seen) = $2 AND run_id > $3)"
		args = append(args, c.LastSeen, clean(c.ID))
	}
	sql := fmt.Sprintf(`WITH page AS (
			SELECT run_id, max(last_seen) AS last_seen FROM run_deltas WHERE project = $1
			GROUP BY run_id HAVING %s ORDER BY max(last_seen) DESC, run_id LIMIT %d)
		SELECT p.run_id, d.agg FROM page p JOIN run_deltas d ON d.project = $1 AND d.run_id = p.run_id
		ORDER BY p.last_seen DESC, p.run_id`, having, limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return store.RunPage{}, fmt.Errorf("list runs of %q: %w", project, err)
	}
	defer rows.Close()
	var aggs []*store.RunAgg
	for rows.Next() {
		var id string
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			return store.RunPage{}, fmt.Errorf("list runs of %q: %w", project, err)
		}
		d := store.NewRunAgg(id)
		if err := json.Unmarshal(v, d); err != nil {
			return store.RunPage{}, fmt.Errorf("decode run %q: %w", id, err)
		}
		if len(aggs) == 0 || aggs[len(aggs)-1].ID != id {
			aggs = append(aggs, store.NewRunAgg(id))
		}
		mergeRun(aggs[len(aggs)-1], d)
	}
	if err := rows.Err(); err != nil {
		return store.RunPage{}, fmt.Errorf("list runs of %q: %w", project, err)
	}
	page := store.RunPage{Runs: []store.Run{}}
	for i, a := range aggs {
		if i == limit {
			last := aggs[i-1]
			page.NextCursor = store.RunCursor{LastSeen: last.LastSeen, ID: last.ID}.Encode()
			break
		}
		finishRun(a)
		page.Runs = append(page.Runs, a.Run())
	}
	return page, nil
}

// dirtyRuns is the set of runs waiting for compaction.
type dirtyRuns struct {
	dirtyMu sync.Mutex
	dirty   map[runKey]bool
}
