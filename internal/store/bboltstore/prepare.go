package bboltstore

import (
	"fmt"

	"github.com/tracehound/tracehound/internal/store"
)

// preparedRecord is the record one write request's spans of a trace make on their own,
// built by the calling goroutine with everything the writer needs for a new record: its
// doc number, stored value, summary, equality entries and index tokens. The single writer
// goroutine then only puts keys when the record is new, which it usually is (a trace's spans
// tend to arrive in one request); otherwise it folds the spans as usual and this is dropped.
type preparedRecord struct {
	rk     []byte
	spans  []int // indexes into the request's spans, duplicates within the request removed
	rec    *store.Record
	value  []byte
	sum    store.Summary
	eq     map[string]struct{}
	tokens []string
}

// prepare groups a request's spans by record, in order of first appearance.
func (s *Store) prepare(spans []store.Span) ([]*preparedRecord, error) {
	var out []*preparedRecord
	byKey := map[string]*preparedRecord{}
	seen := map[[24]byte]bool{}
	for i := range spans {
		sp := &spans[i]
		var id [24]byte
		copy(id[:16], sp.TraceID[:])
		copy(id[16:], sp.SpanID[:])
		if seen[id] {
			continue // the same span twice in one request
		}
		seen[id] = true
		rk := recordKey(sp.Project, sp.TraceID)
		p := byKey[string(rk)]
		if p == nil {
			p = &preparedRecord{rk: rk, rec: store.NewRecord(sp.Project, sp.TraceIDHex())}
			byKey[string(rk)] = p
			out = append(out, p)
		}
		p.spans = append(p.spans, i)
		p.rec.Fold(sp)
	}
	for _, p := range out {
		doc, err := s.allocDoc()
		if err != nil {
			return nil, err
		}
		p.rec.Assembly.DocID = doc
		if p.value, err = encodeRecord(p.rec); err != nil {
			return nil, fmt.Errorf("encode record %s: %w", p.rec.ID, err)
		}
		p.sum = p.rec.Summary()
		p.eq = eqEntries(p.rec)
		p.tokens = store.IndexTokens(p.rec)
	}
	return out, nil
}

// allocDoc hands out the next doc number. Numbers are unique and increase in the order they
// are handed out; one that is never committed (a prepared record the writer did not use, a
// failed commit) is a gap, which nothing depends on.
func (s *Store) allocDoc() (uint64, error) {
	return s.nextDoc.Add(1), nil
}
