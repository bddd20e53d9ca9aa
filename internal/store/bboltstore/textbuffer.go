package bboltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tracehound/tracehound/internal/store"
)

// Text postings of new records are not written into their chunks at each commit: a token's
// open chunk sits next to its sealed ones, so the open chunks of a commit's tokens lie pages
// apart and a commit of a few records rewrote hundreds of kilobytes of text index. Instead
// they collect in an in-memory text buffer, written into the chunks in one transaction when
// it is large (flushText).
//
// Durability needs no log of its own: the records are. The meta key text_flushed holds a doc
// number, the mark; every posting of a doc at or below the mark is in the bucket. Postings of
// docs above it are added to the buffer only, so Open rebuilds the buffer from the records
// whose docs are above the mark (rebuildText). A doc at or below the mark that gets new
// postings (a record prepared before a flush and committed after it) is written straight
// into its chunks, as before. Removals go to the bucket or the buffer by the same rule.
//
// Readers merge the postings of the buffers into those of the bucket. A flush freezes the
// buffer, puts a fresh one in its place, writes the frozen one and only then drops it, and a
// reader loads the buffers in the same order as the index deltas (see deltaView), so it never
// misses a posting because of a flush.

var keyTextMark = []byte("text_flushed")

// defaultTextFlushPostings bounds the buffer: 4–8 MB of doc numbers plus ~100 bytes per
// token and hour, the postings of some 7k records of the benchmark corpus.
const defaultTextFlushPostings = 500_000

// textBuffer is a set of text postings of docs above the mark. Only the writer goroutine
// changes it, under mu; readers copy what they need under the read lock.
type textBuffer struct {
	mu    sync.RWMutex
	lists map[string]*postingList // by posting-list head (textKey)
	hours map[string][]uint32     // by project prefix: the hours of lists, ascending
	n     int                     // postings
}

func newTextBuffer() *textBuffer {
	return &textBuffer{lists: map[string]*postingList{}, hours: map[string][]uint32{}}
}

// postingList is a buffered posting list. Lists stay in their buffer once made, emptied or
// not, so a staged op can hold its list instead of looking the head up again at the commit.
type postingList struct{ ids []uint64 } // docs, ascending

func (b *textBuffer) len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.n
}

// textOp is a staged change to one posting: of the list of head, or of list when the buffer
// had one for the head as the op was staged.
type textOp struct {
	list *postingList
	head string
	doc  uint64
	add  bool
}

// apply makes committed changes visible (in the order staged).
func (b *textBuffer) apply(ops []textOp) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, op := range ops {
		l := op.list
		if l == nil {
			if l = b.lists[op.head]; l == nil {
				if !op.add {
					continue
				}
				l = &postingList{}
				b.lists[op.head] = l
				b.addHour([]byte(op.head))
			}
		}
		i, found := slices.BinarySearch(l.ids, op.doc)
		switch {
		case op.add && !found:
			l.ids = slices.Insert(l.ids, i, op.doc)
			b.n++
		case !op.add && found:
			l.ids = slices.Delete(l.ids, i, i+1)
			b.n--
		}
	}
}

// addHour notes the hour of a new list's head (pp | hour | token).
func (b *textBuffer) addHour(head []byte) {
	pp, _ := keyProject(head) // a head that posting built: pp | hour | token
	h := binary.BigEndian.Uint32(head[len(pp):])
	hs := b.hours[string(pp)]
	if i, found := slices.BinarySearch(hs, h); !found {
		b.hours[string(pp)] = slices.Insert(hs, i, h)
	}
}

// appendPostings appends the docs of head's list to ids.
func (b *textBuffer) appendPostings(ids []uint64, head []byte) []uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if l := b.lists[string(head)]; l != nil {
		ids = append(ids, l.ids...)
	}
	return ids
}

// hour is the latest hour of the project before h (desc) or the earliest after it with a
// list in the buffer. An hour whose lists all emptied may still be listed: a reader finds no
// postings there and moves on.
func (b *textBuffer) hour(pp []byte, h uint32, desc bool) (uint32, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	hs := b.hours[string(pp)]
	i, found := slices.BinarySearch(hs, h)
	if desc {
		if i == 0 {
			return 0, false
		}
		return hs[i-1], true
	}
	if found {
		i++
	}
	if i >= len(hs) {
		return 0, false
	}
	return hs[i], true
}

// textView is what a reader takes of the text buffers.
type textView struct{ newer, flushing *textBuffer }

func (s *Store) textView() textView {
	v := textView{newer: s.text.Load()}
	v.flushing = s.textFlushing.Load()
	return v
}

func (v textView) buffers() [2]*textBuffer { return [2]*textBuffer{v.newer, v.flushing} }

// textWriter stages a transaction's postings of docs above the mark for the buffer.
type textWriter struct {
	buf  *textBuffer
	mark uint64
	ops  []textOp
	// heads holds one string per head staged: a commit's records share most of their tokens.
	heads map[string]string
	// spare, when set, keeps ops' array for the next transaction's writer once this one is
	// committed: a commit stages a few hundred postings per record, and growing a fresh
	// slice for each was a tenth of the process's allocation.
	spare *[]textOp
}

func (tw *textWriter) stage(head []byte, doc uint64, add bool) {
	// Only this goroutine changes the buffer, so it reads the lists without the lock.
	if l := tw.buf.lists[string(head)]; l != nil {
		tw.ops = append(tw.ops, textOp{list: l, doc: doc, add: add})
		return
	}
	h, ok := tw.heads[string(head)]
	if !ok {
		if tw.heads == nil {
			tw.heads = map[string]string{}
		}
		h = string(head)
		tw.heads[h] = h
	}
	tw.ops = append(tw.ops, textOp{head: h, doc: doc, add: add})
}

func (tw *textWriter) commit() {
	tw.buf.apply(tw.ops)
	if tw.spare != nil && cap(tw.ops) <= maxSpareTextOps {
		clear(tw.ops) // drop the heads and lists
		*tw.spare = tw.ops[:0]
	}
}

// maxSpareTextOps bounds the array kept between commits (~40 bytes an op).
const maxSpareTextOps = 1 << 20

func readTextMark(tx *bolt.Tx) (uint64, error) {
	v := tx.Bucket(bucketMeta).Get(keyTextMark)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unreadable text index mark %q", v)
	}
	return n, nil
}

func putTextMark(tx *bolt.Tx, mark uint64) error {
	if err := tx.Bucket(bucketMeta).Put(keyTextMark, []byte(strconv.FormatUint(mark, 10))); err != nil {
		return fmt.Errorf("record text index mark: %w", err)
	}
	return nil
}

// rebuildText puts the postings of the records whose docs are above the mark into a buffer.
func rebuildText(tx *bolt.Tx) (*textBuffer, uint64, error) {
	mark, err := readTextMark(tx)
	if err != nil {
		return nil, 0, err
	}
	b := newTextBuffer()
	records := tx.Bucket(bucketRecords)
	c := tx.Bucket(bucketDocs).Cursor()
	var ops []textOp
	// Doc keys are pp | doc: seek past the mark in each project.
	for k, _ := c.First(); k != nil; {
		pp, ok := keyProject(k)
		if !ok {
			return nil, 0, fmt.Errorf("rebuild text index: malformed doc key %x", k)
		}
		pp = append([]byte(nil), pp...)
		for k, v := c.Seek(docKey(pp, mark+1)); k != nil && bytes.HasPrefix(k, pp) && len(k) == len(pp)+8; k, v = c.Next() {
			if len(v) != 24 {
				continue
			}
			doc := binary.BigEndian.Uint64(k[len(pp):])
			rv := records.Get(recordKey(pp, doc))
			if rv == nil {
				continue
			}
			rec, err := decodeRecord(rv)
			if err != nil {
				return nil, 0, fmt.Errorf("rebuild text index: record %x: %w", v[8:], err)
			}
			for _, t := range store.IndexTokens(rec) {
				ops = append(ops, textOp{head: string(textKey(pp, hourOf(rec.Assembly.StartNanos), t)), doc: doc, add: true})
			}
		}
		k, _ = c.Seek(nextPrefix(pp))
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].doc < ops[j].doc }) // appends at the end
	b.apply(ops)
	return b, mark, nil
}

// nextPrefix is the least key after every key that starts with p.
func nextPrefix(p []byte) []byte {
	n := append([]byte(nil), p...)
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] != 0xff {
			n[i]++
			return n[:i+1]
		}
	}
	return nil // every key starts with p: nothing after
}

// textFlushRetry is how long a failed flush waits before the next try: a flush rewrites the
// current hour's open chunks, which is not worth repeating after every commit while, say, the
// disk is full.
const textFlushRetry = 5 * time.Second

// textFlushStep flushes the text buffer when it has grown to TextFlushPostings (writer
// goroutine only). A failure is logged by the caller and retried after textFlushRetry.
func (s *Store) textFlushStep() error {
	if s.text.Load().len() < s.opts.TextFlushPostings || time.Now().Before(s.textRetryAt) {
		return nil
	}
	if err := s.flushText(); err != nil {
		s.textRetryAt = time.Now().Add(textFlushRetry)
		return err
	}
	return nil
}

// flushText writes the buffered postings into their chunks and raises the mark to every doc
// committed so far (writer goroutine only: no commit runs meanwhile).
func (s *Store) flushText() error {
	frozen := s.text.Load()
	s.textFlushing.Store(frozen)
	s.text.Store(newTextBuffer())
	var mark uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx) // no buffer: postings go into their chunks
		// Every sealed chunk's bound is at or below the mark, and every buffered doc is above
		// it: the postings all go into the open chunks, at their end.
		w.lastOldDoc = s.textMark
		frozen.mu.RLock()
		for head, l := range frozen.lists {
			w.appendOpen([]byte(head), l.ids)
		}
		frozen.mu.RUnlock()
		if err := w.writePostings(); err != nil {
			return err
		}
		mark = tx.Bucket(bucketDocs).Sequence()
		return putTextMark(tx, mark)
	})
	if err != nil {
		// The frozen buffer takes new postings again; the fresh one is still empty, as only
		// this goroutine commits. It stays the flushing one as well: a reader that took the
		// fresh buffer must still find it there. The next flush writes it.
		s.text.Store(frozen)
		return fmt.Errorf("write text index of %d postings into %s: %w", frozen.len(), s.path, err)
	}
	s.textMark = mark
	s.textFlushing.Store(nil)
	return nil
}
