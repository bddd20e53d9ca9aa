package pgstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tracehound/tracehound/internal/store"
)

// sortColumns map sort fields to their column and cursor code.
var sortColumns = map[store.SortField]struct {
	col  string
	code byte
}{
	store.SortTime:     {"start_ns", 's'},
	store.SortDuration: {"duration_ms", 'd'},
	store.SortCost:     {"cost_usd", 'c'},
	store.SortTokens:   {"usage_total", 't'},
}

// position is where a record sits in a sort: the sort value and the trace ID.
type position struct {
	value uint64 // int64 or float64 bits, by field
	tid   [16]byte
}

func positionOf(f store.SortField, r *store.Record) position {
	var p position
	switch f {
	case store.SortDuration:
		p.value = math.Float64bits(r.DurationMS)
	case store.SortCost:
		p.value = math.Float64bits(r.CostUSD)
	case store.SortTokens:
		p.value = uint64(r.Usage.Total)
	default:
		p.value = uint64(r.Assembly.StartNanos)
	}
	_, _ = hex.Decode(p.tid[:], []byte(r.ID))
	return p
}

// arg is the position's sort value as the column's type.
func (p position) arg(f store.SortField) any {
	switch f {
	case store.SortDuration, store.SortCost:
		return math.Float64frombits(p.value)
	}
	return int64(p.value)
}

// A cursor is a version byte, the sort (field code, direction), the position of the last
// record of the page and a CRC, base64url encoded, so that hand-made, truncated or
// other-sort cursors are refused instead of silently listing something else.
const cursorVersion = 0x50

func encodeCursor(s store.Sort, p position) string {
	b := make([]byte, 0, 31)
	b = append(b, cursorVersion, sortColumns[s.Field].code, dirByte(s))
	b = binary.BigEndian.AppendUint64(b, p.value)
	b = append(b, p.tid[:]...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s store.Sort, c string) (position, bool) {
	var p position
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 31 || b[0] != cursorVersion {
		return p, false
	}
	if crc32.ChecksumIEEE(b[:27]) != binary.BigEndian.Uint32(b[27:]) {
		return p, false
	}
	if b[1] != sortColumns[s.Field].code || b[2] != dirByte(s) {
		return p, false
	}
	p.value = binary.BigEndian.Uint64(b[3:11])
	copy(p.tid[:], b[11:27])
	return p, true
}

func dirByte(s store.Sort) byte {
	if s.Asc {
		return 1
	}
	return 0
}

// where is a WHERE clause under construction.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// filterWhere translates a filter into SQL. ok is false when nothing can match (e.g. a
// trace ID that is not one). Every result is still checked with Filter.Match.
func filterWhere(project string, f *store.Filter, tq store.TextQuery) (w *where, ok bool) {
	w = &where{}
	w.add("project = ?", clean(project))
	eq := []struct{ col, v string }{
		{"status", f.Status}, {"source", f.Source}, {"run_id", f.RunID}, {"testcase_id", f.TestcaseID},
		{"service", f.Service}, {"user_id", f.UserID}, {"session_id", f.SessionID},
	}
	for _, e := range eq {
		if e.v != "" {
			w.add(e.col+" = ?", clean(e.v))
		}
	}
	if f.TraceID != "" {
		var tid [16]byte
		if len(f.TraceID) != 32 {
			return nil, false
		}
		if _, err := hex.Decode(tid[:], []byte(f.TraceID)); err != nil {
			return nil, false
		}
		w.add("trace_id = ?", tid[:])
	}
	if f.Model != "" {
		w.add("models @> ?::text[]", []string{clean(f.Model)})
	}
	if f.Flag != "" {
		w.add("flag_codes @> ?::text[]", []string{clean(f.Flag)})
	}
	if len(f.Meta) > 0 {
		b, _ := json.Marshal(cleanMap(f.Meta))
		w.add("metadata @> ?::jsonb", string(b))
	}
	for _, m := range f.Metrics {
		w.add("jsonb_exists(scores, ?)", clean(m.Name))
	}
	if !tq.Empty() {
		w.add("search_tokens @> ?::text[]", tq.Terms)
	}
	lo, hi := f.TimeBounds()
	if lo != math.MinInt64 {
		w.add("start_ns >= ?", lo)
	}
	if hi != math.MaxInt64 {
		w.add("start_ns < ?", hi)
	}
	if f.MinCost > 0 {
		w.add("cost_usd >= ?", f.MinCost)
	}
	if f.MinDurationMS > 0 {
		w.add("duration_ms >= ?", f.MinDurationMS)
	}
	return w, true
}

// ListRecords implements store.Store with keyset pagination on (sort column, trace ID).
func (s *Store) ListRecords(ctx context.Context, project string, q store.Query) (store.Page, error) {
	done, err := s.read()
	if err != nil {
		return store.Page{}, err
	}
	defer done()
	limit := store.ClampLimit(q.Limit)
	if q.Sort.Field == "" {
		q.Sort.Field = store.SortTime
	}
	sc, known := sortColumns[q.Sort.Field]
	if !known {
		return store.Page{}, fmt.Errorf("%w: unknown sort field %q", store.ErrInvalid, q.Sort.Field)
	}
	var after *position
	if q.Cursor != "" {
		p, ok := decodeCursor(q.Sort, q.Cursor)
		if !ok {
			return store.Page{}, store.ErrBadCursor
		}
		after = &p
	}
	page := store.Page{Records: []*store.Record{}}
	tq := store.ParseText(q.Text)
	base, ok := filterWhere(project, &q.Filter, tq)
	if !ok {
		return page, nil
	}
	dir, cmp := "DESC", "<"
	if q.Sort.Asc {
		dir, cmp = "ASC", ">"
	}
	// Every row read is a whole record checked in Go (phrases and metric comparisons are
	// not in the SQL), so each costs RecordCost of the page's scan budget.
	budget := q.ScanBudget
	if budget <= 0 {
		budget = store.DefaultScanBudget
	}
	var lastEmitted position
	chunk := min(limit+1, budget/store.RecordCost+1)
	for {
		w := &where{conds: append([]string{}, base.conds...), args: append([]any{}, base.args...)}
		if after != nil {
			w.add(fmt.Sprintf("(%s, trace_id) %s (?, ?)", sc.col, cmp), after.arg(q.Sort.Field), after.tid[:])
		}
		sql := fmt.Sprintf("SELECT %s FROM records WHERE %s ORDER BY %s %s, trace_id %s LIMIT %d",
			recordColumns, w, sc.col, dir, dir, chunk)
		n, stop, err := func() (int, bool, error) {
			rows, err := s.pool.Query(ctx, sql, w.args...)
			if err != nil {
				return 0, false, err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				rec, err := scanRecord(rows)
				if err != nil {
					return n, false, err
				}
				n++
				p := positionOf(q.Sort.Field, rec)
				after = &p
				if q.Filter.Match(rec, tq) {
					if len(page.Records) == limit {
						page.NextCursor = encodeCursor(q.Sort, lastEmitted)
						return n, true, nil
					}
					page.Records = append(page.Records, rec)
					lastEmitted = p
				}
				if budget -= store.RecordCost; budget <= 0 {
					page.NextCursor = encodeCursor(q.Sort, p)
					return n, true, nil
				}
			}
			return n, false, rows.Err()
		}()
		if err != nil {
			return store.Page{}, fmt.Errorf("list records of %q: %w", project, err)
		}
		if stop || n < chunk {
			return page, nil
		}
		chunk = min(chunk*2, store.MaxLimit+1, budget/store.RecordCost+1)
	}
}

// GetRecord implements store.Store.
func (s *Store) GetRecord(ctx context.Context, project, traceID string) (*store.Record, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	var tid [16]byte
	if len(traceID) != 32 {
		return nil, store.ErrNotFound
	}
	if _, err := hex.Decode(tid[:], []byte(traceID)); err != nil {
		return nil, store.ErrNotFound
	}
	row := s.pool.QueryRow(ctx, "SELECT "+recordColumns+" FROM records WHERE project = $1 AND trace_id = $2", clean(project), tid[:])
	rec, err := scanRecord(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", traceID, err)
	}
	return rec, nil
}

// GetSpans implements store.Store.
func (s *Store) GetSpans(ctx context.Context, project, traceID string) ([]store.Span, error) {
	done, err := s.read()
	if err != nil {
		return nil, err
	}
	defer done()
	var tid [16]byte
	if len(traceID) != 32 {
		return nil, store.ErrNotFound
	}
	if _, err := hex.Decode(tid[:], []byte(traceID)); err != nil {
		return nil, store.ErrNotFound
	}
	rows, err := s.pool.Query(ctx, "SELECT raw FROM spans WHERE project = $1 AND trace_id = $2 ORDER BY start_ns, span_id", clean(project), tid[:])
	if err != nil {
		return nil, fmt.Errorf("read spans of trace %s: %w", traceID, err)
	}
	defer rows.Close()
	var spans []store.Span
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read spans of trace %s: %w", traceID, err)
		}
		sp, _, err := store.DecodeSpan(project, raw)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", traceID, err)
		}
		spans = append(spans, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read spans of trace %s: %w", traceID, err)
	}
	if len(spans) == 0 {
		return nil, store.ErrNotFound
	}
	return spans, nil
}
