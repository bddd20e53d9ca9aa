package bboltstore

import (
	"context"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// A summary carries its record's doc after the models; one written before that (no doc)
// decodes to the same summary and doc 0.
func TestSummary_CarriesItsDoc(t *testing.T) {
	sum := store.Summary{
		Start: 1_700_000_000_000_000_000, Status: "error", DurationMS: 1234.5, CostUSD: 0.0125,
		Usage:     store.Usage{Input: 900, Output: 120, Total: 1020, CacheRead: 30},
		FlagCount: 2, Source: "otlp", Service: "agent", UserID: "u1", SessionID: "s1", RunID: "r1",
		Models: []string{"gpt-4o", "claude-sonnet-4"},
	}
	for _, tc := range []struct {
		name    string
		value   []byte
		wantDoc uint64
	}{
		{"with doc", encodeSummary(&sum, 42), 42},
		{"written before docs", func() []byte { v := encodeSummary(&sum, 42); return v[:len(v)-8] }(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, doc, err := decodeSummaryInterned(sum.Start, tc.value, nil)
			if err != nil {
				t.Fatal(err)
			}
			if doc != tc.wantDoc || !reflect.DeepEqual(got, sum) {
				t.Errorf("decoded %+v, doc %d; want %+v, doc %d", got, doc, sum, tc.wantDoc)
			}
		})
	}
}

// Queries go from a time-index entry to its record by the summary's doc. A summary without
// one (written before it), or with the doc of another record, must still lead to the
// entry's own record, through the traces map.
func TestListRecords_SummaryDocFallsBackToTheTracesMap(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), zap.NewNop(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var specs []storetest.SpanSpec
	for i := 1; i <= 3; i++ {
		specs = append(specs, storetest.AgentTrace(i, int64(i)*60_000)...)
	}
	if err := s.WriteSpans(ctx, storetest.MakeSpans(t, "p1", specs...)); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		t.Helper()
		page, err := s.ListRecords(ctx, "p1", store.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page.Records {
			ids = append(ids, r.TraceID)
		}
		return ids
	}
	want := list()
	if len(want) != 3 {
		t.Fatalf("listed %v, want 3 records", want)
	}
	// The first entry loses its doc, the second points at the third's record.
	err = s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByTime).Cursor()
		var docs []uint64
		var keys, vals [][]byte
		for k, v := c.First(); k != nil; k, v = c.Next() {
			_, doc, err := decodeSummaryInterned(0, v, nil)
			if err != nil {
				return err
			}
			docs = append(docs, doc)
			keys, vals = append(keys, append([]byte{}, k...)), append(vals, append([]byte{}, v...))
		}
		if len(keys) != 3 || docs[0] == 0 || docs[1] == docs[2] {
			t.Fatalf("time index holds %d entries, docs %v", len(keys), docs)
		}
		b := tx.Bucket(bucketByTime)
		if err := b.Put(keys[0], vals[0][:len(vals[0])-8]); err != nil {
			return err
		}
		wrong := append(vals[1][:len(vals[1])-8:len(vals[1])-8], vals[2][len(vals[2])-8:]...)
		return b.Put(keys[1], wrong)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := list(); !reflect.DeepEqual(got, want) {
		t.Errorf("after the summaries changed: listed %v, want %v", got, want)
	}
}
