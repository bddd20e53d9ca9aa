package bboltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/tracehound/tracehound/internal/store"
)

// recordOf finds the key and stored value of the record of tk (a trace key) as of tx and the
// deltas dv, taken before tx began; both are nil when there is none.
func recordOf(tx *bolt.Tx, dv deltaView, tk []byte) (rk, v []byte) {
	doc, ok := lookupDoc(tx.Bucket(bucketTraces), dv, tk)
	if !ok {
		return nil, nil
	}
	pp, _ := splitTraceKey(tk)
	rk = recordKey(pp, doc)
	return rk, tx.Bucket(bucketRecords).Get(rk)
}

// GetRecord implements store.Store.
func (s *Store) GetRecord(_ context.Context, project, traceID string) (*store.Record, error) {
	var tid [16]byte
	if !hexDecode(tid[:], traceID) {
		return nil, store.ErrNotFound
	}
	var rec *store.Record
	dv := s.deltaView()
	err := s.view(func(tx *bolt.Tx) error {
		_, v := recordOf(tx, dv, traceKey(project, tid))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		rec, err = decodeRecord(v)
		return err
	})
	return rec, err
}

// GetSpans implements store.Store.
func (s *Store) GetSpans(_ context.Context, project, traceID string) ([]store.Span, error) {
	var tid [16]byte
	if !hexDecode(tid[:], traceID) {
		return nil, store.ErrNotFound
	}
	var spans []store.Span
	dv := s.deltaView()
	err := s.view(func(tx *bolt.Tx) error {
		prefix, v := recordOf(tx, dv, traceKey(project, tid))
		if v == nil {
			return nil
		}
		cur := tx.Bucket(bucketSpans).Cursor()
		bodies := bodyReader{l: s.spanLog}
		for k, v := cur.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = cur.Next() {
			raw, err := bodies.spanBytes(v)
			if err != nil {
				return fmt.Errorf("trace %s: %w", traceID, err)
			}
			sp, _, err := store.DecodeSpan(project, raw)
			if err != nil {
				return fmt.Errorf("trace %s: %w", traceID, err)
			}
			spans = append(spans, sp)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, store.ErrNotFound
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans, nil
}

// PutScore implements store.Store.
func (s *Store) PutScore(ctx context.Context, project, traceID, name string, score store.Score) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: a score needs a name", store.ErrInvalid)
	}
	var tid [16]byte
	if !hexDecode(tid[:], traceID) {
		return store.ErrNotFound
	}
	tk := traceKey(project, tid)
	return s.update(ctx, func(tx *bolt.Tx) error {
		// On the writer goroutine: the deltas it loads are current.
		_, v := recordOf(tx, s.deltaView(), tk)
		if v == nil {
			return store.ErrNotFound
		}
		old, err := decodeRecord(v)
		if err != nil {
			return err
		}
		rec, _ := decodeRecord(v)
		rec.SetScore(name, score)
		w := s.newTxWriter(tx)
		if err := w.change(tk, old, rec); err != nil {
			return err
		}
		return w.flushAux()
	})
}

// ListRuns implements store.Store. All runs of the project are read (each is one small
// aggregate) and ordered by last seen, newest first.
func (s *Store) ListRuns(_ context.Context, project string, q store.RunQuery) (store.RunPage, error) {
	limit := store.ClampLimit(q.Limit)
	var after *store.RunCursor
	if q.Cursor != "" {
		c, ok := store.DecodeRunCursor(q.Cursor)
		if !ok {
			return store.RunPage{}, store.ErrBadCursor
		}
		after = &c
	}
	var aggs []*store.RunAgg
	pp := projectPrefix(project)
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRuns).Cursor()
		for k, v := c.Seek(pp); k != nil && hasPrefix(k, pp); k, v = c.Next() {
			a := store.NewRunAgg("")
			if err := gojson.Unmarshal(v, a); err != nil {
				return fmt.Errorf("decode run %q: %w", k[len(pp):], err)
			}
			if after == nil || after.After(a.LastSeen, a.ID) {
				aggs = append(aggs, a)
			}
		}
		return nil
	})
	if err != nil {
		return store.RunPage{}, err
	}
	sort.Slice(aggs, func(i, j int) bool {
		if aggs[i].LastSeen != aggs[j].LastSeen {
			return aggs[i].LastSeen > aggs[j].LastSeen
		}
		return aggs[i].ID < aggs[j].ID
	})
	page := store.RunPage{Runs: []store.Run{}}
	for i, a := range aggs {
		if i == limit {
			last := aggs[i-1]
			page.NextCursor = store.RunCursor{LastSeen: last.LastSeen, ID: last.ID}.Encode()
			break
		}
		page.Runs = append(page.Runs, a.Run())
	}
	return page, nil
}

// GetRun implements store.Store.
func (s *Store) GetRun(_ context.Context, project, runID string) (*store.Run, error) {
	var run *store.Run
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRuns).Get(cat(projectPrefix(project), []byte(runID)))
		if v == nil {
			return store.ErrNotFound
		}
		a := store.NewRunAgg(runID)
		if err := gojson.Unmarshal(v, a); err != nil {
			return fmt.Errorf("decode run %q: %w", runID, err)
		}
		r := a.Run()
		run = &r
		return nil
	})
	return run, err
}

// Stats implements store.Store by scanning the summaries in the time range.
func (s *Store) Stats(ctx context.Context, project string, q store.StatsQuery) (*store.Stats, error) {
	b := store.NewStatsBuilder(q)
	f := store.Filter{From: q.From, To: q.To}
	lo, hi := f.TimeBounds()
	pp := projectPrefix(project)
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByTime).Cursor()
		seek := pp
		if lo > 0 {
			seek = timeKey(pp, lo, make([]byte, 16))
		}
		n := 0
		intern := map[string]string{}
		for k, v := c.Seek(seek); k != nil && hasPrefix(k, pp) && len(k) == len(pp)+24; k, v = c.Next() {
			start := int64(binary.BigEndian.Uint64(k[len(pp):]))
			if hi != math.MaxInt64 && start >= hi {
				break
			}
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			sum, _, err := decodeSummaryInterned(start, v, intern)
			if err != nil {
				return err
			}
			b.Add(&sum)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Result(), nil
}

func objectKey(project, kind, name string) []byte {
	return cat(projectPrefix(project), []byte(kind), []byte{0}, []byte(name))
}

// PutObject implements store.Store.
func (s *Store) PutObject(ctx context.Context, project, kind, name string, body []byte) error {
	if name == "" || kind == "" {
		return fmt.Errorf("%w: an object needs a kind and a name", store.ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketObjects).Put(objectKey(project, kind, name), body)
	})
}

// GetObject implements store.Store.
func (s *Store) GetObject(_ context.Context, project, kind, name string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketObjects).Get(objectKey(project, kind, name))
		if v == nil {
			return store.ErrNotFound
		}
		out = append([]byte{}, v...)
		return nil
	})
	return out, err
}

// ListObjects implements store.Store.
func (s *Store) ListObjects(_ context.Context, project, kind string) ([]store.Object, error) {
	prefix := objectKey(project, kind, "")
	out := []store.Object{}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketObjects).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			out = append(out, store.Object{Name: string(k[len(prefix):]), Body: append([]byte{}, v...)})
		}
		return nil
	})
	return out, err
}

// DeleteObject implements store.Store.
func (s *Store) DeleteObject(ctx context.Context, project, kind, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketObjects)
		k := objectKey(project, kind, name)
		if b.Get(k) == nil {
			return store.ErrNotFound
		}
		return b.Delete(k)
	})
}
