package bboltstore

import (
	"bytes"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// schemaDocKeys is the first schema that keys records and spans by doc number.
const schemaDocKeys = 5

// rekeyBatch bounds one transaction of the move to doc keys: bbolt holds every page a
// transaction changes in memory until it commits. A variable for tests.
var rekeyBatch = 2000

// rekeyByDoc moves the records and spans of a store written before schema 5 from trace keys
// to doc keys and fills the traces map, rekeyBatch records per transaction. Each record moves
// with its spans and its traces entry in one transaction, so a crash between two leaves every
// record in one layout or the other and the next Open goes on from there. Keys of the two
// layouts have different lengths: records pp|trace(16) and pp|doc(8), spans pp|trace|span
// and pp|doc|span.
func rekeyByDoc(db *bolt.DB) error {
	var from []byte
	for {
		done := true
		err := db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return nil // a new store
			}
			if n, err := strconv.Atoi(string(meta.Get(keySchema))); err != nil || n >= schemaDocKeys {
				return nil // current, or unreadable: migrate says which
			}
			var err error
			var traces, docs *bolt.Bucket
			if traces, err = tx.CreateBucketIfNotExists(bucketTraces); err != nil {
				return err
			}
			if docs, err = tx.CreateBucketIfNotExists(bucketDocs); err != nil {
				return err
			}
			records, spans := tx.Bucket(bucketRecords), tx.Bucket(bucketSpans)
			if records == nil || spans == nil {
				return nil
			}
			var old [][]byte
			c := records.Cursor()
			for k, _ := c.Seek(from); k != nil && len(old) < rekeyBatch; k, _ = c.Next() {
				if pp, ok := keyProject(k); ok && len(k) == len(pp)+16 {
					old = append(old, bytes.Clone(k))
				}
			}
			for _, tk := range old {
				if err := rekeyRecord(records, spans, traces, docs, tk); err != nil {
					return fmt.Errorf("move record %x to its doc key: %w", tk, err)
				}
			}
			if len(old) == rekeyBatch {
				done, from = false, old[len(old)-1]
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate to schema 5: %w", err)
		}
		if done {
			return nil
		}
	}
}

// rekeyRecord moves one record stored under its trace key tk, and its spans, to its doc key,
// giving it a doc number if it has none (schema 1).
func rekeyRecord(records, spans, traces, docs *bolt.Bucket, tk []byte) error {
	v := bytes.Clone(records.Get(tk)) // values in the map may move while the transaction writes
	rec, err := decodeRecord(v)
	if err != nil {
		return err
	}
	doc := rec.Assembly.DocID
	if doc == 0 {
		if doc, err = docs.NextSequence(); err != nil {
			return err
		}
		rec.Assembly.DocID = doc
		if v, err = encodeRecord(rec); err != nil {
			return err
		}
	} else if doc > docs.Sequence() {
		if err := docs.SetSequence(doc); err != nil {
			return err
		}
	}
	pp, _ := splitTraceKey(tk)
	rk := recordKey(pp, doc)
	if err := records.Put(rk, v); err != nil {
		return err
	}
	if err := records.Delete(tk); err != nil {
		return err
	}
	if err := traces.Put(tk, encodeDoc(doc)); err != nil {
		return err
	}
	type kv struct{ k, v []byte }
	var moved []kv
	c := spans.Cursor()
	for k, sv := c.Seek(tk); k != nil && bytes.HasPrefix(k, tk); k, sv = c.Next() {
		if len(k) == len(tk)+8 {
			moved = append(moved, kv{bytes.Clone(k), bytes.Clone(sv)})
		}
	}
	for _, s := range moved {
		var sid [8]byte
		copy(sid[:], s.k[len(tk):])
		if err := spans.Put(spanKey(rk, sid), s.v); err != nil {
			return err
		}
		if err := spans.Delete(s.k); err != nil {
			return err
		}
	}
	return nil
}
