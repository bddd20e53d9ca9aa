package bboltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/tracehound/tracehound/internal/store"
)

// txWriter folds spans into records inside one transaction, writing each record once, and
// moves every index entry, summary and run aggregate from the record's old state to its new
// one. Posting lists and run aggregates touched by many records are written once at the end.
type txWriter struct {
	spans, records, traces, byTime, eq, sortIdx, text, docs, runs, spanLog *bolt.Bucket
	// live counts the span-log bytes this transaction's puts and deletes add and take away,
	// and emptied lists the segments left without live bytes once it is written (see
	// spanlog.go).
	live    liveDelta
	emptied []uint32

	dirty    map[string]*dirtyRecord
	order    []string
	postings map[string]*postingChunk // by chunk key
	runAggs  map[string]*store.RunAgg
	textCur  *bolt.Cursor
	// lastOldDoc is the docs bucket's sequence when this transaction began: every committed
	// doc number, so every sealed posting chunk's bound, is at most this, and a newer doc
	// always goes in the open chunk.
	lastOldDoc uint64
	// allocDoc hands out doc numbers; maxDoc is the largest this transaction used, raised
	// into the bucket's sequence when it commits.
	allocDoc func() (uint64, error)
	maxDoc   uint64
	// idx stages equality and sort entries for the store's index delta; nil puts them
	// straight into their buckets (migrations, which run before the store has a delta).
	idx     *deltaWriter
	pending *bolt.Bucket
	// textW stages the text postings of docs above the mark for the text buffer; nil
	// writes every posting into its chunk (migrations, text flushes).
	textW *textWriter
	// keyBuf holds the posting-list head being changed.
	keyBuf []byte
}

// postingChunk is one chunk of a token's posting list for an hour, as changed in this
// transaction (see sealedKey for the layout).
type postingChunk struct {
	ids    []uint64
	sealed bool
	head   int // length of the open chunk's key, which every chunk key of the list starts with
}

type dirtyRecord struct {
	old *store.Record // as committed before this transaction, nil for a new record
	rec *store.Record
	doc uint64 // the record's doc number, its key in the records bucket
	// prep, while set, is rec as prepared by the caller (a new record), with what change
	// needs already computed.
	prep *preparedRecord
}

func newTxWriter(tx *bolt.Tx) *txWriter {
	w := &txWriter{
		spans:    tx.Bucket(bucketSpans),
		records:  tx.Bucket(bucketRecords),
		traces:   tx.Bucket(bucketTraces),
		byTime:   tx.Bucket(bucketByTime),
		eq:       tx.Bucket(bucketEq),
		sortIdx:  tx.Bucket(bucketSort),
		text:     tx.Bucket(bucketText),
		docs:     tx.Bucket(bucketDocs),
		runs:     tx.Bucket(bucketRuns),
		spanLog:  tx.Bucket(bucketSpanLog),
		live:     liveDelta{},
		dirty:    map[string]*dirtyRecord{},
		postings: map[string]*postingChunk{},
		runAggs:  map[string]*store.RunAgg{},
	}
	w.textCur = w.text.Cursor()
	w.lastOldDoc = w.docs.Sequence()
	// Records arrive roughly in time order, so these buckets mostly grow at their end (per
	// value, for idx_eq): fuller pages there halve their size. Randomly keyed buckets keep
	// bbolt's default half-full split.
	w.byTime.FillPercent = 0.9
	w.docs.FillPercent = 0.9
	w.text.FillPercent = 0.9
	w.eq.FillPercent = 0.8
	// A trace's spans are put together under adjacent keys and their values are large (a
	// compressed span is ~1.5 KB): split at half a page, each leaf held about one span, so
	// every trace rewrote several pages. Full pages: 7% fewer bytes written per span.
	w.spans.FillPercent = 1.0
	// Records are keyed by doc, which grows as they are created: they are appended too.
	w.records.FillPercent = 1.0
	w.allocDoc = w.docs.NextSequence
	return w
}

// addPrepared adds the spans of one trace from one write request: as the caller prepared
// them when the record is still new to the store and to this transaction (no stored span
// can exist for it), folded one by one into the record otherwise.
func (w *txWriter) addPrepared(p *preparedRecord, spans []store.Span, packed [][]byte) error {
	if _, dirty := w.dirty[string(p.tk)]; p.rec != nil && !dirty {
		if _, exists := w.lookupDoc(p.tk); !exists {
			pp, _ := splitTraceKey(p.tk)
			rk := recordKey(pp, p.rec.Assembly.DocID)
			for _, i := range p.spans {
				if err := w.putSpan(spanKey(rk, spans[i].SpanID), packed[i]); err != nil {
					return err
				}
			}
			w.dirty[string(p.tk)] = &dirtyRecord{rec: p.rec, prep: p, doc: p.rec.Assembly.DocID}
			w.order = append(w.order, string(p.tk))
			return nil
		}
	}
	for _, i := range p.spans {
		if err := w.add(&spans[i], packed[i]); err != nil {
			return err
		}
	}
	return nil
}

// lookupDoc finds the doc of a trace that has a record: committed, or staged in this
// transaction's index delta. Records dirty in this transaction are the caller's to check.
func (w *txWriter) lookupDoc(tk []byte) (uint64, bool) {
	if w.idx == nil {
		return lookupDoc(w.traces, deltaView{}, tk)
	}
	if op, ok := w.idx.traces[string(tk)]; ok {
		if op.del || len(op.val) != 8 {
			return 0, false
		}
		return binary.BigEndian.Uint64([]byte(op.val)), true
	}
	return lookupDoc(w.traces, deltaView{newer: w.idx.delta, merging: w.idx.merging}, tk)
}

// add folds one span into its record; packed is its stored value (see writeRequest).
func (w *txWriter) add(sp *store.Span, packed []byte) error {
	tk := traceKey(sp.Project, sp.TraceID)
	pp, _ := splitTraceKey(tk)
	d, dirty := w.dirty[string(tk)]
	var doc uint64
	var exists bool
	if dirty {
		doc, exists = d.doc, d.old != nil
	} else {
		doc, exists = w.lookupDoc(tk)
	}
	var rk []byte
	if exists || dirty {
		rk = recordKey(pp, doc)
		if w.spans.Get(spanKey(rk, sp.SpanID)) != nil {
			return nil // delivered before
		}
	}
	if !dirty {
		d = &dirtyRecord{}
		if exists {
			v := w.records.Get(rk)
			if v == nil {
				return fmt.Errorf("record %s: the traces map points at doc %d, which has no record: the store file is inconsistent (restore it from a backup)", sp.TraceIDHex(), doc)
			}
			old, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("record %s: %w", sp.TraceIDHex(), err)
			}
			rec, _ := decodeRecord(v)
			d.old, d.rec = old, rec
		} else {
			var err error
			if doc, err = w.allocDoc(); err != nil {
				return fmt.Errorf("allocate doc id: %w", err)
			}
			d.rec = store.NewRecord(sp.Project, sp.TraceIDHex())
			d.rec.Assembly.DocID = doc
			rk = recordKey(pp, doc)
		}
		d.doc = doc
		w.dirty[string(tk)] = d
		w.order = append(w.order, string(tk))
	}
	if err := w.putSpan(spanKey(rk, sp.SpanID), packed); err != nil {
		return err
	}
	d.rec.Fold(sp)
	d.prep = nil // what the caller computed is stale now
	return nil
}

// putSpan stores a span's value (its pointer into the span log) under its key.
func (w *txWriter) putSpan(k, v []byte) error {
	if err := w.spans.Put(k, v); err != nil {
		return fmt.Errorf("put span: %w", err)
	}
	w.live.count(v, +1)
	return nil
}

// deleteSpans deletes the spans of the record whose key is rk.
func (w *txWriter) deleteSpans(rk []byte) error {
	c := w.spans.Cursor()
	var keys [][]byte
	for k, v := c.Seek(rk); k != nil && hasPrefix(k, rk); k, v = c.Next() {
		keys = append(keys, append([]byte{}, k...))
		w.live.count(v, -1)
	}
	for _, k := range keys {
		if err := w.spans.Delete(k); err != nil {
			return fmt.Errorf("delete span: %w", err)
		}
	}
	return nil
}

func (w *txWriter) flush() error {
	for _, tk := range w.order {
		d := w.dirty[tk]
		if err := w.changePrepared([]byte(tk), d.old, d.rec, d.prep); err != nil {
			return fmt.Errorf("record %s: %w", d.rec.ID, err)
		}
	}
	return w.flushAux()
}

// change moves the record of tk (a trace key) from old to rec (either may be nil: created,
// deleted). The spans of a deleted record are the caller's to delete.
func (w *txWriter) change(tk []byte, old, rec *store.Record) error {
	return w.changePrepared(tk, old, rec, nil)
}

// changePrepared is change, taking what prep (for rec, when not nil) already computed.
func (w *txWriter) changePrepared(tk []byte, old, rec *store.Record, prep *preparedRecord) error {
	pp, tid := splitTraceKey(tk)
	var oldSum, newSum store.Summary
	if old != nil {
		oldSum = old.Summary()
	}
	switch {
	case prep != nil:
		newSum = prep.sum
	case rec != nil:
		newSum = rec.Summary()
	}
	moved := old == nil || rec == nil || oldSum.Start != newSum.Start

	// The record, keyed by its doc number, and the trace's entry in the traces map. Every
	// record has a doc by now (the writer or the caller allocated it, or a migration did).
	var doc uint64
	if old != nil {
		doc = old.Assembly.DocID
	}
	if rec != nil {
		if rec.Assembly.DocID == 0 {
			rec.Assembly.DocID = doc
		}
		if doc != 0 && rec.Assembly.DocID != doc {
			return fmt.Errorf("record changes doc from %d to %d", doc, rec.Assembly.DocID)
		}
		doc = rec.Assembly.DocID
	}
	if doc == 0 {
		return errors.New("record without a doc number")
	}
	rk := recordKey(pp, doc)
	if rec != nil {
		w.maxDoc = max(w.maxDoc, doc)
		var v []byte
		if prep != nil {
			v = prep.value
		} else {
			var err error
			if v, err = encodeRecord(rec); err != nil {
				return fmt.Errorf("encode record: %w", err)
			}
		}
		if err := w.records.Put(rk, v); err != nil {
			return fmt.Errorf("put record: %w", err)
		}
		if old == nil {
			if err := w.putIndex(w.traces, deltaTrace, tk, encodeDoc(doc)); err != nil {
				return fmt.Errorf("put trace: %w", err)
			}
		}
		if moved {
			if err := w.docs.Put(docKey(pp, doc), timePosBytes(newSum.Start, tid)); err != nil {
				return fmt.Errorf("put doc: %w", err)
			}
		}
	} else {
		if err := w.records.Delete(rk); err != nil {
			return fmt.Errorf("delete record: %w", err)
		}
		if err := w.deleteIndex(w.traces, deltaTrace, tk); err != nil {
			return fmt.Errorf("delete trace: %w", err)
		}
		if err := w.docs.Delete(docKey(pp, doc)); err != nil {
			return fmt.Errorf("delete doc: %w", err)
		}
	}

	// Time index with summaries.
	if old != nil && moved {
		if err := w.byTime.Delete(timeKey(pp, oldSum.Start, tid)); err != nil {
			return fmt.Errorf("delete time index: %w", err)
		}
	}
	if rec != nil {
		if err := w.byTime.Put(timeKey(pp, newSum.Start, tid), encodeSummary(&newSum, doc)); err != nil {
			return fmt.Errorf("put time index: %w", err)
		}
	}

	// Equality indexes.
	oldEq, newEq := eqEntries(old), map[string]struct{}(nil)
	if prep != nil {
		newEq = prep.eq
	} else {
		newEq = eqEntries(rec)
	}
	for fv := range oldEq {
		if _, keep := newEq[fv]; keep && !moved {
			continue
		}
		if err := w.deleteIndex(w.eq, deltaEq, cat(eqPrefix(pp, fv), timePosBytes(oldSum.Start, tid))); err != nil {
			return fmt.Errorf("delete index entry: %w", err)
		}
	}
	for fv := range newEq {
		if _, had := oldEq[fv]; had && !moved {
			continue
		}
		if err := w.putIndex(w.eq, deltaEq, cat(eqPrefix(pp, fv), timePosBytes(newSum.Start, tid)), nil); err != nil {
			return fmt.Errorf("put index entry: %w", err)
		}
	}

	// Sort indexes; the value is the start, to find the summary.
	for f := range sortIDs {
		var ok, nk []byte
		if old != nil {
			ok = sortKey(pp, f, &oldSum, tid)
		}
		if rec != nil {
			nk = sortKey(pp, f, &newSum, tid)
		}
		if ok != nil && string(ok) != string(nk) {
			if err := w.deleteIndex(w.sortIdx, deltaSort, ok); err != nil {
				return fmt.Errorf("delete sort index: %w", err)
			}
		}
		if nk != nil && (string(ok) != string(nk) || moved) {
			if err := w.putIndex(w.sortIdx, deltaSort, nk, timePosBytes(newSum.Start, tid)[:8]); err != nil {
				return fmt.Errorf("put sort index: %w", err)
			}
		}
	}

	// Text index: postings live in the hour of the record's start.
	var newToks []string
	if prep != nil {
		newToks = prep.tokens
	}
	if err := w.changeText(pp, doc, old, rec, moved, newToks); err != nil {
		return err
	}

	// Run aggregates.
	if old != nil && old.RunID != "" {
		if err := w.runAgg(pp, string(old.RunID), func(a *store.RunAgg) { a.Apply(old, -1) }); err != nil {
			return err
		}
	}
	if rec != nil && rec.RunID != "" {
		if err := w.runAgg(pp, string(rec.RunID), func(a *store.RunAgg) { a.Apply(rec, 1) }); err != nil {
			return err
		}
	}
	return nil
}

// putIndex adds an equality or sort entry: to the index delta, or to its bucket b.
func (w *txWriter) putIndex(b *bolt.Bucket, id byte, key, val []byte) error {
	if w.idx == nil {
		return b.Put(key, val)
	}
	if id != deltaTrace && len(val) > maxDeltaValue {
		return fmt.Errorf("index value of %d bytes: the index delta holds at most %d", len(val), maxDeltaValue)
	}
	w.idx.put(id, key, val)
	return nil
}

// deleteIndex removes an equality or sort entry from the index delta and from b.
func (w *txWriter) deleteIndex(b *bolt.Bucket, id byte, key []byte) error {
	if w.idx != nil {
		w.idx.delete(id, key)
	}
	return b.Delete(key)
}

// changeText moves the record's postings; newToks, when not nil, are rec's index tokens.
func (w *txWriter) changeText(pp []byte, doc uint64, old, rec *store.Record, moved bool, newToks []string) error {
	if old != nil && rec != nil && !moved && hourOf(old.Assembly.StartNanos) == hourOf(rec.Assembly.StartNanos) &&
		old.Input == rec.Input && old.Output == rec.Output && old.Expected == rec.Expected {
		return nil
	}
	if rec != nil && newToks == nil {
		newToks = store.IndexTokens(rec)
	}
	var oldToks []string
	if old != nil {
		oldToks = store.IndexTokens(old)
	}
	sameHour := old != nil && rec != nil && hourOf(old.Assembly.StartNanos) == hourOf(rec.Assembly.StartNanos)
	var inOld, inNew map[string]bool
	if sameHour {
		inOld, inNew = setOf(oldToks), setOf(newToks)
	}
	for _, t := range oldToks {
		if inNew[t] {
			continue
		}
		w.keyBuf = appendTextKey(w.keyBuf[:0], pp, hourOf(old.Assembly.StartNanos), t)
		w.posting(w.keyBuf, doc, false)
	}
	for _, t := range newToks {
		if inOld[t] {
			continue
		}
		w.keyBuf = appendTextKey(w.keyBuf[:0], pp, hourOf(rec.Assembly.StartNanos), t)
		w.posting(w.keyBuf, doc, true)
	}
	return nil
}

// posting adds doc to head's posting list or removes it: in the text buffer when doc is above
// the mark (see textbuffer.go), in its chunk otherwise. head is not kept.
func (w *txWriter) posting(head []byte, doc uint64, add bool) {
	if w.textW != nil && doc > w.textW.mark {
		w.textW.stage(head, doc, add)
		return
	}
	key := w.chunkFor(head, doc)
	c, ok := w.postings[string(key)]
	if !ok {
		ids := decodePostings(w.text.Get(key))
		if !add && !slices.Contains(ids, doc) {
			return // nothing to remove: the chunk stays as it is
		}
		c = &postingChunk{ids: ids, sealed: len(key) > len(head), head: len(head)}
		w.postings[string(key)] = c
	}
	ids := c.ids
	i := sort.Search(len(ids), func(i int) bool { return ids[i] >= doc })
	present := i < len(ids) && ids[i] == doc
	switch {
	case add && !present:
		ids = append(ids, 0)
		copy(ids[i+1:], ids[i:])
		ids[i] = doc
	case !add && present:
		ids = append(ids[:i], ids[i+1:]...)
	}
	c.ids = ids
}

// appendOpen adds ascending docs, all above lastOldDoc, to head's posting list.
func (w *txWriter) appendOpen(head []byte, ids []uint64) {
	if len(ids) == 0 {
		return
	}
	c, ok := w.postings[string(head)]
	if !ok {
		c = &postingChunk{ids: decodePostings(w.text.Get(head)), head: len(head)}
		w.postings[string(head)] = c
	}
	if n := len(c.ids); n > 0 && c.ids[n-1] >= ids[0] {
		for _, doc := range ids { // not after the chunk's docs: one at a time
			w.posting(head, doc, true)
		}
		return
	}
	c.ids = append(c.ids, ids...)
}

// chunkFor is the key of the chunk of head's posting list that doc belongs in: the sealed
// chunk with the smallest bound at or above doc, or the open chunk when doc is above every
// bound. Text entries are written only in flushAux, so the cursor sees the committed index.
func (w *txWriter) chunkFor(head []byte, doc uint64) []byte {
	if doc > w.lastOldDoc {
		return head
	}
	k, _ := w.textCur.Seek(sealedKey(head, doc))
	if k != nil && isSealedKeyOf(k, head) {
		return append([]byte(nil), k...)
	}
	return head
}

func (w *txWriter) runAgg(pp []byte, runID string, fn func(a *store.RunAgg)) error {
	key := cat(pp, []byte(runID))
	a, ok := w.runAggs[string(key)]
	if !ok {
		a = store.NewRunAgg(runID)
		if v := w.runs.Get(key); v != nil {
			if err := gojson.Unmarshal(v, a); err != nil {
				return fmt.Errorf("decode run %s: %w", runID, err)
			}
		}
		w.runAggs[string(key)] = a
	}
	fn(a)
	return nil
}

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, t := range list {
		m[t] = true
	}
	return m
}

// flushAux writes the posting lists and run aggregates collected by change, records the
// doc numbers used in the docs bucket's sequence, and logs the staged index entries.
func (w *txWriter) flushAux() error {
	emptied, err := w.live.apply(w.spanLog)
	if err != nil {
		return err
	}
	w.emptied = append(w.emptied, emptied...)
	if w.idx != nil {
		if err := w.idx.log(w.pending); err != nil {
			return err
		}
	}
	if w.maxDoc > w.docs.Sequence() {
		if err := w.docs.SetSequence(w.maxDoc); err != nil {
			return fmt.Errorf("record doc sequence: %w", err)
		}
	}
	if err := w.writePostings(); err != nil {
		return err
	}
	for k, a := range w.runAggs {
		var err error
		if a.RecordCount <= 0 {
			err = w.runs.Delete([]byte(k))
		} else {
			var v []byte
			if v, err = json.Marshal(a); err == nil {
				err = w.runs.Put([]byte(k), v)
			}
		}
		if err != nil {
			return fmt.Errorf("write run %s: %w", a.ID, err)
		}
	}
	return nil
}

// writePostings stores the posting chunks changed by posting.
func (w *txWriter) writePostings() error {
	keys := make([]string, 0, len(w.postings))
	for k := range w.postings {
		keys = append(keys, k)
	}
	sort.Strings(keys) // sequential puts fill pages better
	for _, k := range keys {
		if err := w.writeChunk([]byte(k), w.postings[k]); err != nil {
			return fmt.Errorf("write text index: %w", err)
		}
	}
	return nil
}

// writeChunk stores a changed posting chunk. An open chunk that grew past postingChunkIDs
// seals its full prefixes; a sealed chunk that grew past twice that (records moving into an
// older hour) splits, its last piece keeping the bound.
func (w *txWriter) writeChunk(key []byte, c *postingChunk) error {
	ids := c.ids
	if len(ids) == 0 {
		return w.text.Delete(key)
	}
	head := key[:c.head]
	limit := postingChunkIDs
	if c.sealed {
		limit = 2 * postingChunkIDs
	}
	for len(ids) > limit {
		piece := ids[:postingChunkIDs]
		if err := w.text.Put(sealedKey(head, piece[len(piece)-1]), encodePostings(piece)); err != nil {
			return err
		}
		ids = ids[postingChunkIDs:]
	}
	return w.text.Put(key, encodePostings(ids))
}

// eqEntries are the equality-index entries (field 0 value) of a record.
func eqEntries(r *store.Record) map[string]struct{} {
	out := map[string]struct{}{}
	if r == nil {
		return out
	}
	add := func(field, value string) {
		if value == "" {
			return
		}
		if fv := eqField(field, value); eqIndexable(fv) {
			out[fv] = struct{}{}
		}
	}
	add("status", r.Status)
	add("source", r.Source)
	add("run", string(r.RunID))
	add("testcase", string(r.TestcaseID))
	add("service", r.Service)
	add("user", string(r.UserID))
	add("session", string(r.SessionID))
	for _, m := range r.Models {
		add("model", m)
	}
	for _, f := range r.Flags {
		add("flag", f.Code)
	}
	for k, v := range r.Metadata {
		add("meta", k+"\x00"+v)
	}
	return out
}

func timePosBytes(start int64, tid []byte) []byte {
	p := timePos(start, tid)
	return p[:]
}

func timeKey(pp []byte, start int64, tid []byte) []byte {
	return cat(pp, timePosBytes(start, tid))
}
