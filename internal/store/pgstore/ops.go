package pgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tracehound/tracehound/internal/store"
)

// PutScore implements store.Store.
func (s *Store) PutScore(ctx context.Context, project, traceID, name string, score store.Score) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: a score needs a name", store.ErrInvalid)
	}
	var tid [16]byte
	if len(traceID) != 32 {
		return store.ErrNotFound
	}
	if _, err := hex.Decode(tid[:], []byte(traceID)); err != nil {
		return store.ErrNotFound
	}
	project = clean(project)
	var dirty map[runKey]bool
	err := s.writeTx(ctx, "put score "+name+" on "+traceID, func(tx pgx.Tx) error {
		dirty = map[runKey]bool{}
		if err := lockAll(ctx, tx, []int64{lockKey(project, tid[:])}); err != nil {
			return err
		}
		recs, err := loadRecords(ctx, tx, []string{project}, [][]byte{tid[:]}, "")
		if err != nil {
			return err
		}
		old := recs[project+"\x00"+hex.EncodeToString(tid[:])]
		if old == nil {
			return store.ErrNotFound
		}
		rec := cloneRecord(old)
		rec.SetScore(name, score)
		args, err := recordArgs(rec)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, upsertRecord, args...); err != nil {
			return fmt.Errorf("write record: %w", err)
		}
		return s.applyRuns(ctx, tx, []change{{old: old, rec: rec}}, dirty)
	})
	if err == nil {
		s.markDirty(dirty)
	}
	return err
}

// Stats implements store.Store by streaming the summaries of the records in range.
func (s *Store) Stats(ctx context.Context, project string, q store.StatsQuery) (*store.Stats, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	b := store.NewStatsBuilder(q)
	f := store.Filter{From: q.From, To: q.To}
	w, _ := filterWhere(project, &f, store.TextQuery{})
	rows, err := s.pool.Query(ctx, `SELECT start_ns, duration_ms, cost_usd, usage_input, usage_output, usage_total,
		usage_cache_read, usage_cache_write, status, source, service, user_id, session_id, run_id, testcase_id,
		models, cardinality(flag_codes) FROM records WHERE `+w.String(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("stats of %q: %w", project, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sum store.Summary
		var flags int32
		if err := rows.Scan(&sum.Start, &sum.DurationMS, &sum.CostUSD, &sum.Usage.Input, &sum.Usage.Output, &sum.Usage.Total,
			&sum.Usage.CacheRead, &sum.Usage.CacheWrite, &sum.Status, &sum.Source, &sum.Service, &sum.UserID, &sum.SessionID,
			&sum.RunID, &sum.TestcaseID, &sum.Models, &flags); err != nil {
			return nil, fmt.Errorf("stats of %q: %w", project, err)
		}
		sum.FlagCount = int(flags)
		b.Add(&sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats of %q: %w", project, err)
	}
	return b.Result(), nil
}

// PutObject implements store.Store.
func (s *Store) PutObject(ctx context.Context, project, kind, name string, body []byte) error {
	if name == "" || kind == "" {
		return fmt.Errorf("%w: an object needs a kind and a name", store.ErrInvalid)
	}
	if body == nil {
		body = []byte{}
	}
	return s.writeTx(ctx, "put "+kind+" "+name, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO objects (project, kind, name, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project, kind, name) DO UPDATE SET body = EXCLUDED.body`, clean(project), clean(kind), clean(name), body)
		return err
	})
}

// GetObject implements store.Store.
func (s *Store) GetObject(ctx context.Context, project, kind, name string) ([]byte, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	var body []byte
	err = s.pool.QueryRow(ctx, "SELECT body FROM objects WHERE project = $1 AND kind = $2 AND name = $3",
		clean(project), clean(kind), clean(name)).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %q: %w", kind, name, err)
	}
	return body, nil
}

// ListObjects implements store.Store.
func (s *Store) ListObjects(ctx context.Context, project, kind string) ([]store.Object, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, "SELECT name, body FROM objects WHERE project = $1 AND kind = $2 ORDER BY name", clean(project), clean(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s objects: %w", kind, err)
	}
	defer rows.Close()
	out := []store.Object{}
	for rows.Next() {
		var o store.Object
		if err := rows.Scan(&o.Name, &o.Body); err != nil {
			return nil, fmt.Errorf("list %s objects: %w", kind, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s objects: %w", kind, err)
	}
	return out, nil
}

// DeleteObject implements store.Store.
func (s *Store) DeleteObject(ctx context.Context, project, kind, name string) error {
	return s.writeTx(ctx, "delete "+kind+" "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM objects WHERE project = $1 AND kind = $2 AND name = $3", clean(project), clean(kind), clean(name))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// deleteBatch bounds the records one retention transaction removes, so that writers of
// the same records wait for short moments only.
const deleteBatch = 1000

// DeleteBefore implements store.Store, oldest records first, batch by batch.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time) (int, error) {
	limit := cutoff.UnixNano()
	if cutoff.IsZero() {
		limit = math.MinInt64
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		projects, tids, err := s.oldest(ctx, limit)
		if err != nil || len(projects) == 0 {
			return total, err
		}
		n := 0
		var dirty map[runKey]bool
		err = s.writeTx(ctx, "delete old records", func(tx pgx.Tx) error {
			n, dirty = 0, map[runKey]bool{}
			keys := make([]int64, len(projects))
			for i := range projects {
				keys[i] = lockKey(projects[i], tids[i])
			}
			if err := lockAll(ctx, tx, keys); err != nil {
				return err
			}
			// Re-checked under the locks: a late span may have moved a record's start.
			rows, err := tx.Query(ctx, `DELETE FROM records WHERE (project, trace_id) IN
				(SELECT * FROM unnest($1::text[], $2::bytea[])) AND start_ns < $3 RETURNING `+recordColumns, projects, tids, limit)
			if err != nil {
				return fmt.Errorf("delete records: %w", err)
			}
			var changes []change
			var delProjects []string
			var delTids [][]byte
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("delete records: %w", err)
				}
				changes = append(changes, change{old: r})
				tid, _ := hex.DecodeString(r.ID)
				delProjects, delTids = append(delProjects, r.ProjectID), append(delTids, tid)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("delete records: %w", err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM spans WHERE (project, trace_id) IN
				(SELECT * FROM unnest($1::text[], $2::bytea[]))`, delProjects, delTids); err != nil {
				return fmt.Errorf("delete spans: %w", err)
			}
			n = len(changes)
			return s.applyRuns(ctx, tx, changes, dirty)
		})
		total += n
		if err != nil {
			return total, err
		}
		s.markDirty(dirty)
		if n == 0 {
			return total, nil
		}
	}
}

// oldest lists up to deleteBatch records of any project that started before limit.
func (s *Store) oldest(ctx context.Context, limit int64) ([]string, [][]byte, error) {
	done, err := s.read()
	if err != nil {
		return nil, nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, "SELECT project, trace_id FROM records WHERE start_ns < $1 ORDER BY start_ns LIMIT $2", limit, deleteBatch)
	if err != nil {
		return nil, nil, fmt.Errorf("find old records: %w", err)
	}
	defer rows.Close()
	var projects []string
	var tids [][]byte
	for rows.Next() {
		var p string
		var t []byte
		if err := rows.Scan(&p, &t); err != nil {
			return nil, nil, fmt.Errorf("find old records: %w", err)
		}
		projects, tids = append(projects, p), append(tids, t)
	}
	return projects, tids, rows.Err()
}
