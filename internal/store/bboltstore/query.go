package bboltstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// A cursor is a version byte, the sort (field byte, direction byte), the position of the
// last record on the page and a CRC, base64url encoded, so that hand-made, truncated or
// other-sort cursors are refused instead of silently listing something else.
const cursorVersion = 2

func sortCode(s store.Sort) (byte, byte) {
	f := byte('s')
	if id, ok := sortIDs[s.Field]; ok {
		f = id
	}
	if s.Asc {
		return f, 1
	}
	return f, 0
}

func encodeCursor(s store.Sort, p pos) string {
	f, d := sortCode(s)
	b := make([]byte, 0, 3+len(p)+4)
	b = append(b, cursorVersion, f, d)
	b = append(b, p[:]...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s store.Sort, c string) (pos, bool) {
	var p pos
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 3+24+4 || b[0] != cursorVersion {
		return p, false
	}
	if crc32.ChecksumIEEE(b[:27]) != binary.BigEndian.Uint32(b[27:]) {
		return p, false
	}
	if f, d := sortCode(s); b[1] != f || b[2] != d {
		return p, false
	}
	copy(p[:], b[3:27])
	return p, true
}

// iterator yields positions of one index in order. seek returns the greatest position
// ≤ target (desc) or the least ≥ target (asc).
type iterator interface {
	seek(target pos, desc bool) (pos, bool)
}

// keyIter walks keys prefix | position.
type keyIter struct {
	c      *bolt.Cursor
	prefix []byte
}

func (it *keyIter) seek(target pos, desc bool) (pos, bool) {
	key := cat(it.prefix, target[:])
	var p pos
	k, _ := it.c.Seek(key)
	if desc && (k == nil || !bytes.Equal(k, key)) {
		if k == nil {
			k, _ = it.c.Last()
		} else {
			k, _ = it.c.Prev()
		}
	}
	if k == nil || !hasPrefix(k, it.prefix) || len(k) != len(it.prefix)+24 {
		return p, false
	}
	copy(p[:], k[len(it.prefix):])
	return p, true
}

// textIter walks the records containing every search token, by start time. Postings are
// doc IDs per hour: an hour's lists of all tokens are intersected first (cheap, sorted
// integers), and only the records in the intersection are resolved to positions and sorted.
// Hours without a token cost one lookup; stretches without any record are skipped with the
// cursor.
type textIter struct {
	c      *bolt.Cursor
	docs   *bolt.Bucket
	text   textView // postings not written into the bucket yet
	pp     []byte
	tokens []string
	hour   int64 // loaded hour, -1 for none
	list   []pos
	budget *int
}

func (it *textIter) load(h uint32) {
	it.hour = int64(h)
	it.list = it.list[:0]
	var ids []uint64
	for i, t := range it.tokens {
		list := it.postings(textKey(it.pp, h, t))
		if len(list) == 0 {
			return
		}
		if i == 0 {
			ids = list
		} else {
			ids = intersect(ids, list)
		}
		if len(ids) == 0 {
			return
		}
	}
	// Resolving an hour's candidates costs half a unit each, but at most half of what is
	// left: a page must examine some of them, or an hour with more matches than the budget
	// would be loaded again by every page and never listed.
	*it.budget -= min(len(ids)/2, max(*it.budget/2, 0))
	for _, doc := range ids {
		v := it.docs.Get(docKey(it.pp, doc))
		if len(v) != 24 {
			continue
		}
		var p pos
		copy(p[:], v)
		// An entry whose record moved to another hour is stale: the record is listed
		// under its new hour.
		if hourOf(p.start()) == h {
			it.list = append(it.list, p)
		}
	}
	sort.Slice(it.list, func(i, j int) bool { return bytes.Compare(it.list[i][:], it.list[j][:]) < 0 })
}

// postings reads a token's whole posting list for an hour, ascending: its sealed chunks in
// bound order, then the open chunk, merged with the postings in the text buffers.
func (it *textIter) postings(head []byte) []uint64 {
	var ids []uint64
	for k, v := it.c.Seek(sealedKey(head, 0)); k != nil && isSealedKeyOf(k, head); k, v = it.c.Next() {
		*it.budget -= len(v)/64 + 1
		ids = appendPostings(ids, v)
	}
	v := it.c.Bucket().Get(head)
	*it.budget -= len(v)/64 + 1
	ids = appendPostings(ids, v)
	inBucket := len(ids)
	for _, b := range it.text.buffers() {
		if b != nil {
			ids = b.appendPostings(ids, head)
		}
	}
	if len(ids) == inBucket {
		return ids
	}
	*it.budget -= (len(ids) - inBucket) / 64
	slices.Sort(ids)
	return slices.Compact(ids) // a posting written while a reader holds its buffer is listed twice
}

// intersect keeps the IDs of a that are also in b; both are ascending.
func intersect(a, b []uint64) []uint64 {
	out := a[:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// prevHour is the latest hour before h that holds any token of the project, in the bucket
// or in a text buffer.
func (it *textIter) prevHour(h uint32) (uint32, bool) {
	best, found := uint32(0), false
	k, _ := it.c.Seek(binary.BigEndian.AppendUint32(append([]byte{}, it.pp...), h))
	if k == nil {
		k, _ = it.c.Last()
	} else {
		k, _ = it.c.Prev()
	}
	if k != nil && hasPrefix(k, it.pp) && len(k) >= len(it.pp)+4 {
		best, found = binary.BigEndian.Uint32(k[len(it.pp):]), true
	}
	return it.bufferedHour(h, true, best, found)
}

// nextHour is the earliest hour after h that holds any token of the project, in the bucket
// or in a text buffer.
func (it *textIter) nextHour(h uint32) (uint32, bool) {
	if h == math.MaxUint32 {
		return 0, false
	}
	best, found := uint32(0), false
	k, _ := it.c.Seek(binary.BigEndian.AppendUint32(append([]byte{}, it.pp...), h+1))
	if k != nil && hasPrefix(k, it.pp) && len(k) >= len(it.pp)+4 {
		best, found = binary.BigEndian.Uint32(k[len(it.pp):]), true
	}
	return it.bufferedHour(h, false, best, found)
}

// bufferedHour is the nearer of best (the bucket's hour before h when desc, after it
// otherwise, if found) and the text buffers' hours in the same direction.
func (it *textIter) bufferedHour(h uint32, desc bool, best uint32, found bool) (uint32, bool) {
	for _, b := range it.text.buffers() {
		if b == nil {
			continue
		}
		if bh, ok := b.hour(it.pp, h, desc); ok && (!found || desc == (bh > best)) {
			best, found = bh, true
		}
	}
	return best, found
}

func (it *textIter) seek(target pos, desc bool) (pos, bool) {
	h := hourOf(target.start())
	if it.hour != int64(h) {
		it.load(h)
	}
	for {
		if desc {
			i := sort.Search(len(it.list), func(i int) bool { return bytes.Compare(it.list[i][:], target[:]) > 0 })
			if i > 0 {
				return it.list[i-1], true
			}
			prev, ok := it.prevHour(uint32(it.hour))
			if !ok {
				return pos{}, false
			}
			it.load(prev)
			target = maxPos
		} else {
			i := sort.Search(len(it.list), func(i int) bool { return bytes.Compare(it.list[i][:], target[:]) >= 0 })
			if i < len(it.list) {
				return it.list[i], true
			}
			next, ok := it.nextHour(uint32(it.hour))
			if !ok {
				return pos{}, false
			}
			it.load(next)
			target = pos{}
		}
	}
}

var maxPos = func() pos {
	var p pos
	for i := range p {
		p[i] = 0xff
	}
	return p
}()

// step moves one position forward (succ) or back (pred).
func step(p pos, forward bool) (pos, bool) {
	if forward {
		return succ(p)
	}
	return pred(p)
}

// succ and pred step one position.
func succ(p pos) (pos, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			p[i]++
			return p, true
		}
		p[i] = 0
	}
	return p, false
}

func pred(p pos) (pos, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0 {
			p[i]--
			return p, true
		}
		p[i] = 0xff
	}
	return p, false
}

// ListRecords implements store.Store.
func (s *Store) ListRecords(ctx context.Context, project string, q store.Query) (store.Page, error) {
	limit := store.ClampLimit(q.Limit)
	if q.Sort.Field == "" {
		q.Sort.Field = store.SortTime
	}
	var after *pos
	if q.Cursor != "" {
		p, ok := decodeCursor(q.Sort, q.Cursor)
		if !ok {
			return store.Page{}, store.ErrBadCursor
		}
		after = &p
	}
	tq := store.ParseText(q.Text)
	page := store.Page{Records: []*store.Record{}}
	delta := s.deltaView() // before the transaction begins: see delta.go
	text := s.textView()   // likewise
	err := s.view(func(tx *bolt.Tx) error {
		budget := q.ScanBudget
		if budget <= 0 {
			budget = store.DefaultScanBudget
		}
		m := &matcher{
			tx: tx, delta: delta, text: text, pp: projectPrefix(project), f: &q.Filter, tq: tq,
			byTime: tx.Bucket(bucketByTime), budget: budget,
		}
		var last pos
		m.emit = func(p pos, rec *store.Record) bool {
			if len(page.Records) == limit {
				page.NextCursor = encodeCursor(q.Sort, last)
				return false
			}
			page.Records = append(page.Records, rec)
			last = p
			return true
		}
		m.exhausted = func(examined pos) {
			page.NextCursor = encodeCursor(q.Sort, examined)
		}
		emit := m.emit
		var err error
		switch {
		case q.TraceID != "":
			err = m.byTraceID(emit)
		case q.Sort.Field == store.SortTime:
			err = m.scanTime(ctx, after, !q.Sort.Asc, emit)
		default:
			err = m.scanSort(ctx, q.Sort, after, emit)
		}
		if err != nil || !q.WithMessages {
			return err
		}
		spans := tx.Bucket(bucketSpans)
		for _, r := range page.Records {
			if err := fillMessages(spans, s.spanLog, m.pp, r); err != nil {
				return err
			}
		}
		return nil
	})
	return page, err
}

// fillMessages reads the message lists that a record keeps only by span (see encodeRecord)
// from those spans.
func fillMessages(spans *bolt.Bucket, l *spanLog, pp []byte, r *store.Record) error {
	a := &r.Assembly
	var rawID string // the span last read (a single-call trace has both lists in one span)
	var raw []byte
	bodies := bodyReader{l: l} // both spans are usually in one block
	for _, m := range [...]struct {
		text   *string
		spanID string
		key    string
	}{{&a.InputMessages, a.InMsgSpan, llmschema.InputMessages}, {&a.OutputMessages, a.OutMsgSpan, llmschema.OutputMessages}} {
		if *m.text != "" || m.spanID == "" {
			continue
		}
		if m.spanID != rawID {
			var id pcommon.SpanID
			if n, err := hex.Decode(id[:], []byte(m.spanID)); err != nil || n != len(id) {
				return fmt.Errorf("record %s: bad message span ID %q", r.TraceID, m.spanID)
			}
			v := spans.Get(spanKey(recordKey(pp, a.DocID), id))
			if v == nil {
				// The span went with its record or never was: the export falls back to the
				// record's text, as for a call without message lists.
				continue
			}
			var err error
			if raw, err = bodies.spanBytes(v); err != nil {
				return fmt.Errorf("record %s: span %s: %w", r.TraceID, m.spanID, err)
			}
			rawID = m.spanID
		}
		if text, ok := store.SpanStringAttr(raw, m.key); ok {
			*m.text = text
			continue
		}
		sp, _, err := store.DecodeSpan(r.ProjectID, raw) // not a plain string attribute
		if err != nil {
			return fmt.Errorf("record %s: span %s: %w", r.TraceID, m.spanID, err)
		}
		*m.text = sp.InputMessages
		if m.key == llmschema.OutputMessages {
			*m.text = sp.OutputMessages
		}
	}
	return nil
}

type matcher struct {
	tx      *bolt.Tx
	delta   deltaView
	text    textView
	pp      []byte
	f       *store.Filter
	tq      store.TextQuery
	byTime  *bolt.Bucket
	checked int
	// budget is the work left for this page; when it runs out the scan stops and calls
	// exhausted with the last position it examined.
	budget    int
	emit      func(pos, *store.Record) bool
	exhausted func(examined pos)
	intern    map[string]string
}

// check verifies a candidate at time position p against the whole filter and returns the
// record when it matches.
func (m *matcher) check(p pos) (*store.Record, error) {
	m.budget--
	v := m.byTime.Get(cat(m.pp, p[:]))
	if v == nil {
		return nil, nil
	}
	if m.intern == nil {
		m.intern = map[string]string{}
	}
	sum, doc, err := decodeSummaryInterned(p.start(), v, m.intern)
	if err != nil {
		return nil, err
	}
	if !m.f.MatchSummary(&sum) {
		return nil, nil
	}
	var rec *store.Record
	if doc != 0 {
		if rv := m.tx.Bucket(bucketRecords).Get(recordKey(m.pp, doc)); rv != nil {
			if rec, err = decodeRecord(rv); err != nil {
				return nil, err
			}
			if !p.isTraceOf(rec) { // not this entry's record: the traces map decides
				rec = nil
			}
		}
	}
	if rec == nil {
		_, rv := recordOf(m.tx, m.delta, cat(m.pp, p[8:]))
		if rv == nil {
			return nil, nil
		}
		if rec, err = decodeRecord(rv); err != nil {
			return nil, err
		}
	}
	m.budget -= store.RecordCost
	if m.f.NeedsRecord() && !m.f.Match(rec, m.tq) {
		return nil, nil
	}
	return rec, nil
}

func (m *matcher) byTraceID(emit func(pos, *store.Record) bool) error {
	var tid [16]byte
	if !hexDecode(tid[:], m.f.TraceID) {
		return nil
	}
	_, v := recordOf(m.tx, m.delta, cat(m.pp, tid[:]))
	if v == nil {
		return nil
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return err
	}
	if m.f.Match(rec, m.tq) {
		emit(timePos(rec.Assembly.StartNanos, tid[:]), rec)
	}
	return nil
}

// iterators picks the indexes that narrow a time-ordered scan: one per indexed equality
// filter and per search term, intersected by leapfrogging. With none, the time index
// itself is scanned.
func (m *matcher) iterators() []iterator {
	eq := m.tx.Bucket(bucketEq)
	var its []iterator
	addEq := func(field, value string) {
		if value == "" {
			return
		}
		if fv := eqField(field, value); eqIndexable(fv) {
			its = append(its, indexIter(eq, m.delta, deltaEq, eqPrefix(m.pp, fv)))
		}
	}
	f := m.f
	addEq("status", f.Status)
	addEq("source", f.Source)
	addEq("run", f.RunID)
	addEq("testcase", f.TestcaseID)
	addEq("service", f.Service)
	addEq("user", f.UserID)
	addEq("session", f.SessionID)
	addEq("model", f.Model)
	addEq("flag", f.Flag)
	for k, v := range f.Meta {
		addEq("meta", k+"\x00"+v)
	}
	if !m.tq.Empty() {
		its = append(its, &textIter{c: m.tx.Bucket(bucketText).Cursor(), docs: m.tx.Bucket(bucketDocs),
			text: m.text, pp: m.pp, tokens: m.tq.Terms, hour: -1, budget: &m.budget})
	}
	if len(its) == 0 {
		its = append(its, &keyIter{c: m.byTime.Cursor(), prefix: m.pp})
	}
	return its
}

func (m *matcher) scanTime(ctx context.Context, after *pos, desc bool, emit func(pos, *store.Record) bool) error {
	lo, hi := m.f.TimeBounds()
	its := m.iterators()
	var cand pos
	ok := true
	switch {
	case desc && after != nil:
		cand, ok = pred(*after)
	case desc:
		cand = maxPos
		if hi != math.MaxInt64 {
			cand, ok = pred(timePos(hi, make([]byte, 16)))
		}
	case after != nil:
		cand, ok = succ(*after)
	default:
		if lo > 0 {
			cand = timePos(lo, make([]byte, 16))
		}
	}
	for ok {
		agreed := 0
		for i := 0; agreed < len(its); i = (i + 1) % len(its) {
			p, found := its[i].seek(cand, desc)
			if !found {
				return nil
			}
			if p == cand {
				agreed++
			} else {
				cand, agreed = p, 1
			}
			if m.budget <= 0 {
				// Nothing beyond cand is left unexamined: the next page starts at cand.
				if resume, ok := step(cand, !desc); ok {
					m.exhausted(resume)
					return nil
				}
			}
		}
		if desc && cand.start() < lo || !desc && cand.start() >= hi {
			return nil
		}
		if m.checked++; m.checked%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := m.check(cand)
		if err != nil {
			return err
		}
		if rec != nil && !emit(cand, rec) {
			return nil
		}
		if m.budget <= 0 {
			m.exhausted(cand)
			return nil
		}
		if desc {
			cand, ok = pred(cand)
		} else {
			cand, ok = succ(cand)
		}
	}
	return nil
}

// scanSort walks a sort index and verifies every entry against the filter.
func (m *matcher) scanSort(ctx context.Context, srt store.Sort, after *pos, emit func(pos, *store.Record) bool) error {
	prefix := append(append([]byte{}, m.pp...), sortIDs[srt.Field])
	sortIdx := m.tx.Bucket(bucketSort)
	it := indexIter(sortIdx, m.delta, deltaSort, prefix)
	desc := !srt.Asc
	var cand pos
	ok := true
	switch {
	case desc && after != nil:
		cand, ok = pred(*after)
	case desc:
		cand = maxPos
	case after != nil:
		cand, ok = succ(*after)
	}
	for ok {
		p, found := it.seek(cand, desc)
		if !found {
			return nil
		}
		if m.checked++; m.checked%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		start := indexValue(sortIdx, m.delta, deltaSort, cat(prefix, p[:]))
		if len(start) == 8 {
			rec, err := m.check(timePos(int64(binary.BigEndian.Uint64(start)), p[8:]))
			if err != nil {
				return err
			}
			if rec != nil && !emit(p, rec) {
				return nil
			}
		}
		if m.budget <= 0 {
			m.exhausted(p)
			return nil
		}
		if desc {
			cand, ok = pred(p)
		} else {
			cand, ok = succ(p)
		}
	}
	return nil
}
