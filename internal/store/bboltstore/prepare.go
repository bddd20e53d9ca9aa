package bboltstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tracehound/tracehound/internal/store"
)

// preparedRecord is the record one write request's spans of a trace make on their own,
// built by the calling goroutine with everything the writer needs for a new record: its
// doc number, stored value, summary, equality entries and index tokens. The single writer
// goroutine then only puts keys when the record is new, which it usually is (a trace's spans
// tend to arrive in one request); otherwise it folds the spans as usual and this is dropped.
type preparedRecord struct {
	tk    []byte // trace key
	spans []int  // indexes into the request's spans, duplicates within the request removed
	// rec and what follows are set only for a record the store did not hold when the
	// request was prepared.
	rec    *store.Record
	value  []byte
	sum    store.Summary
	eq     map[string]struct{}
	tokens []string
}

// prepare groups a request's spans by record, in order of first appearance, and prepares
// the records the store does not hold yet. A record it already holds (late spans, retries,
// SDKs that export a trace over several requests) is left for the writer to fold, so no work
// is done twice; one that appears between this check and the commit is folded as well.
func (s *Store) prepare(spans []store.Span) ([]*preparedRecord, error) {
	// Spans and records are told apart by value keys, so grouping allocates nothing per span.
	type traceOf struct {
		project string
		trace   [16]byte
	}
	type spanOf struct {
		traceOf
		span [8]byte
	}
	var out []*preparedRecord
	byTrace := map[traceOf]*preparedRecord{}
	seen := make(map[spanOf]bool, len(spans))
	for i := range spans {
		sp := &spans[i]
		tk := traceOf{sp.Project, sp.TraceID}
		if sk := (spanOf{tk, sp.SpanID}); seen[sk] {
			continue // the same span twice in one request
		} else {
			seen[sk] = true
		}
		p := byTrace[tk]
		if p == nil {
			p = &preparedRecord{tk: traceKey(sp.Project, sp.TraceID)}
			byTrace[tk] = p
			out = append(out, p)
		}
		p.spans = append(p.spans, i)
	}
	var fresh []*preparedRecord
	dv := s.deltaView()
	err := s.view(func(tx *bolt.Tx) error {
		traces := tx.Bucket(bucketTraces)
		for _, p := range out {
			if _, ok := lookupDoc(traces, dv, p.tk); !ok {
				fresh = append(fresh, p)
			}
		}
		return nil
	})
	if err != nil {
		// The lookup only saves work (a closed or swapped file, say): the writer folds
		// every record and reports what is wrong.
		return out, nil
	}
	for _, p := range fresh {
		first := &spans[p.spans[0]]
		p.rec = store.NewRecord(first.Project, first.TraceIDHex())
		for _, i := range p.spans {
			p.rec.Fold(&spans[i])
		}
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
