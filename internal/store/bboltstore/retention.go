package bboltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// deleteBatch bounds the records one retention transaction removes, so that writers are
// held up for short moments only.
const deleteBatch = 2000

// DeleteBefore implements store.Store.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time) (int, error) {
	limit := cutoff.UnixNano()
	return s.deleteOldest(ctx, func(start int64) bool { return start < limit }, func() (bool, error) { return true, nil })
}

// deleteOldest removes the oldest records of all projects, batch by batch, while keep says
// a record must go and more says another batch is wanted. It returns how many it removed.
func (s *Store) deleteOldest(ctx context.Context, drop func(start int64) bool, more func() (bool, error)) (int, error) {
	total := 0
	for {
		if want, err := more(); err != nil || !want {
			return total, err
		}
		n := 0
		// Each batch that deleted records ends with an index merge: deleting entries of the
		// index delta appends to idx_pending, which only a merge empties, and size retention
		// measures the file. A batch that found nothing to delete (most checks, and the one at
		// start) does not merge: a whole merge is up to 400k entries, on the writer goroutine,
		// and every write waited for it (0.7 s after a restart on a 3 GB store).
		err := s.exec(ctx, func(s *Store) error {
			var emptied []uint32
			if err := s.db.Update(func(tx *bolt.Tx) error {
				keys := oldestKeys(tx, deleteBatch, drop)
				w := s.newTxWriter(tx)
				dv := s.deltaView() // on the writer goroutine: current
				for _, tk := range keys {
					rk, v := recordOf(tx, dv, tk)
					if v == nil {
						continue
					}
					old, err := decodeRecord(v)
					if err != nil {
						return err
					}
					if err := w.change(tk, old, nil); err != nil {
						return err
					}
					if err := w.deleteSpans(rk); err != nil {
						return err
					}
					n++
				}
				err := w.flushAux()
				emptied = w.emptied
				return err
			}); err != nil {
				return err
			}
			if err := s.removeSegments(emptied); err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			return s.mergeAll()
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("delete old records from %s: %w", s.path, err)
		}
		if n == 0 {
			return total, nil
		}
	}
}

// removeSegments removes the span log segments that a committed transaction left without
// live spans. Readers that began before it may still follow pointers into them, so it waits
// for them (they hold mu shared).
func (s *Store) removeSegments(ids []uint32) error {
	if len(ids) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.spanLog.remove(ids); err != nil {
		return fmt.Errorf("give back span log space in %s: %w", s.spanLog.dir, err)
	}
	return nil
}

// oldestKeys returns up to n trace keys, oldest start first across all projects, of
// records that drop accepts.
func oldestKeys(tx *bolt.Tx, n int, drop func(start int64) bool) [][]byte {
	type cand struct {
		start int64
		rk    []byte
	}
	var cands []cand
	c := tx.Bucket(bucketByTime).Cursor()
	k, _ := c.First()
	for k != nil {
		pp, ok := keyProject(k)
		if !ok || len(k) != len(pp)+24 {
			break
		}
		pp = append([]byte{}, pp...)
		taken := 0
		for ; k != nil && bytes.HasPrefix(k, pp) && taken < n; k, _ = c.Next() {
			start := int64(binary.BigEndian.Uint64(k[len(pp):]))
			if !drop(start) {
				break
			}
			cands = append(cands, cand{start, cat(pp, k[len(pp)+8:])})
			taken++
		}
		k, _ = c.Seek(cat(pp, maxPos[:], []byte{0}))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].start < cands[j].start })
	if len(cands) > n {
		cands = cands[:n]
	}
	out := make([][]byte, len(cands))
	for i, c := range cands {
		out[i] = c.rk
	}
	return out
}

// SizeInfo is how much of the store's files holds data.
type SizeInfo struct {
	// FileBytes and FreeBytes are the bbolt file's size and its free pages.
	FileBytes int64
	FreeBytes int64
	// LogBytes and LogLiveBytes are the span log's segment files' size and the bytes of
	// spans not deleted in them.
	LogBytes     int64
	LogLiveBytes int64
}

// InUse is the bytes that hold live data.
func (i SizeInfo) InUse() int64 { return i.FileBytes - i.FreeBytes + i.LogLiveBytes }

// DiskBytes is the size of the store's files.
func (i SizeInfo) DiskBytes() int64 { return i.FileBytes + i.LogBytes }

// Size reports the files' sizes and how much of them is free.
func (s *Store) Size() (SizeInfo, error) {
	var info SizeInfo
	err := s.view(func(tx *bolt.Tx) error {
		st := s.db.Stats()
		info.FileBytes = tx.Size()
		info.FreeBytes = int64(st.FreePageN+st.PendingPageN) * int64(s.db.Info().PageSize)
		info.LogLiveBytes = liveBytes(tx)
		info.LogBytes = s.spanLog.diskBytes()
		return nil
	})
	return info, err
}

// Retention is a retention policy; zero fields are off.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// RetentionResult says what one EnforceRetention did.
type RetentionResult struct {
	DeletedByAge, DeletedBySize int
	Compacted                   bool
	Before, After               SizeInfo
}

// EnforceRetention deletes records older than MaxAge, then the oldest records until the
// live data fits MaxBytes, and compacts the file when deletion left much of it free, so
// that the file on disk really shrinks.
func (s *Store) EnforceRetention(ctx context.Context, p Retention, now time.Time) (RetentionResult, error) {
	var res RetentionResult
	var err error
	if res.Before, err = s.Size(); err != nil {
		return res, err
	}
	if p.MaxAge > 0 {
		if res.DeletedByAge, err = s.DeleteBefore(ctx, now.Add(-p.MaxAge)); err != nil {
			return res, err
		}
	}
	if p.MaxBytes > 0 {
		// Deleting frees pages inside the file; the target is live data at 90% of the cap,
		// so that the compacted file has room to grow before the next check.
		target := p.MaxBytes * 9 / 10
		res.DeletedBySize, err = s.deleteOldest(ctx, func(int64) bool { return true }, func() (bool, error) {
			info, err := s.Size()
			return err == nil && info.InUse() > target, err
		})
		if err != nil {
			return res, err
		}
	}
	info, err := s.Size()
	if err != nil {
		return res, err
	}
	if res.DeletedByAge+res.DeletedBySize > 0 && info.FreeBytes > info.FileBytes/4 {
		if err := s.Compact(ctx); err != nil {
			return res, err
		}
		res.Compacted = true
	}
	res.After, err = s.Size()
	return res, err
}

// Compact rewrites the file without its free pages and swaps it in. It runs on the writer
// goroutine, so no write is lost: writers queue up meanwhile, readers keep reading the old
// file until the swap, which waits for their transactions to end.
func (s *Store) Compact(ctx context.Context) error {
	return s.exec(ctx, func(s *Store) error {
		tmp := s.path + ".compact"
		_ = os.Remove(tmp)
		dst, err := openDB(tmp, Options{NoSync: true, PageSize: s.opts.PageSize})
		if err != nil {
			return fmt.Errorf("compact %s: %w", s.path, err)
		}
		if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
			_ = dst.Close()
			_ = os.Remove(tmp)
			return fmt.Errorf("compact %s into %s: %w (the store is unchanged)", s.path, tmp, err)
		}
		if err := dst.Sync(); err != nil {
			_ = dst.Close()
			_ = os.Remove(tmp)
			return fmt.Errorf("compact %s: sync copy: %w (the store is unchanged)", s.path, err)
		}
		if err := dst.Close(); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("compact %s: close copy: %w (the store is unchanged)", s.path, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("compact %s: close: %w", s.path, err)
		}
		renameErr := os.Rename(tmp, s.path)
		db, err := openDB(s.path, s.opts)
		if err != nil {
			// Without a file the store cannot go on; every call fails with this error.
			s.logger.Error("Store unusable after compaction", zap.Error(err))
			return fmt.Errorf("compact %s: reopen: %w (restart tracehound)", s.path, err)
		}
		s.db = db
		if renameErr != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("compact %s: swap in %s: %w (the store is unchanged)", s.path, tmp, renameErr)
		}
		return nil
	})
}
