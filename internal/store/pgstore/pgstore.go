// Package pgstore is the PostgreSQL store.Store backend, for several tracehound replicas
// behind a load balancer sharing one database.
//
// Correct without trace affinity: WriteSpans inserts the spans with ON CONFLICT DO NOTHING,
// so each (project, trace, span) is inserted by exactly one transaction on any replica, and
// folds only the spans its own insert returned into their records, under a per-record
// transaction-scoped advisory lock taken after the insert. Every span is therefore folded
// exactly once, into the record as the previous fold committed it; since Fold gives the
// same record for every order, replicas converge to the record one node would build. Run
// aggregates are appended as deltas (old record out, new record in) in the same
// transaction, so writers of one run never wait for each other.
package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key that serialises schema migrations of replicas
// starting at the same time ("tracehound" in ASCII, truncated).
const migrationLock int64 = 0x7472616365686f75

// Options tune the store.
type Options struct {
	// MaxConns caps the connection pool; 0 keeps pgxpool's default (or the DSN's
	// pool_max_conns).
	MaxConns int32
	// Writers is how many transactions write spans at once (default 4).
	Writers int
	// MaxBatchSpans caps the spans one write transaction commits (default 5000).
	MaxBatchSpans int
	// QueueSize caps how many WriteSpans calls may wait for a writer (default 256).
	QueueSize int
	// CommitTimeout bounds one write transaction (default 60s).
	CommitTimeout time.Duration
	// CompactInterval is how often the run rows this store wrote are merged (default 1s).
	CompactInterval time.Duration
}

func (o *Options) withDefaults() {
	if o.Writers <= 0 {
		o.Writers = 4
	}
	if o.MaxBatchSpans <= 0 {
		o.MaxBatchSpans = 5000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = 60 * time.Second
	}
	if o.CompactInterval <= 0 {
		o.CompactInterval = time.Second
	}
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool   *pgxpool.Pool
	logger *zap.Logger
	opts   Options

	reqs      chan *writeRequest
	closing   chan struct{}
	closeOnce sync.Once
	writers   sync.WaitGroup
	compactor sync.WaitGroup
	dirtyRuns

	// mu guards closed; transactions hold it shared so that Close waits for them.
	mu     sync.RWMutex
	closed bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database, applies pending migrations and returns the store.
func Open(ctx context.Context, dsn string, logger *zap.Logger, opts Options) (*Store, error) {
	opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	target := cfg.ConnConfig.Host + ":" + strconv.Itoa(int(cfg.ConnConfig.Port)) + "/" + cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", target, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: connect: %w (is the server up and the dsn right?)", target, err)
	}
	if err := migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", target, err)
	}
	s := &Store{
		pool:    pool,
		logger:  logger,
		opts:    opts,
		reqs:    make(chan *writeRequest, opts.QueueSize),
		closing: make(chan struct{}),
	}
	s.dirty = map[runKey]bool{}
	for i := 0; i < opts.Writers; i++ {
		s.writers.Add(1)
		go s.writeLoop()
	}
	s.compactor.Add(1)
	go s.compactLoop()
	return s, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		base := strings.TrimPrefix(e, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number and _", base)
		}
		b, err := migrationFiles.ReadFile(e)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must be 1, 2, 3... without gaps", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this build migrates to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies the pending migrations in one transaction under an advisory lock, so
// that replicas starting together apply each migration once and wait for each other.
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *zap.Logger) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("read embedded migrations: %w", err)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("lock schema for migration: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this tracehound understands (%d): upgrade tracehound", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			logger.Info("Applied store migration", zap.Int("version", m.version), zap.String("name", m.name))
		}
		return nil
	})
}

// Close commits the queued writes, waits for running transactions and closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.writers.Wait()
		s.compactor.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		s.pool.Close()
	})
	return nil
}

// writeTx runs fn in a read-committed transaction, retried when PostgreSQL aborts it for a
// deadlock or a serialization failure (both leave nothing behind, so a retry is safe).
func (s *Store) writeTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		if err = pgx.BeginFunc(ctx, s.pool, fn); !retryable(err) {
			break
		}
		s.logger.Warn("Store transaction aborted by PostgreSQL; retrying", zap.String("op", what), zap.Int("attempt", i+1), zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// read guards a read against a closed pool.
func (s *Store) read() (func(), error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, store.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// lockKey is the advisory lock of one record. A rare hash collision only serialises two
// unrelated writers.
func lockKey(project string, traceID []byte) int64 {
	h := fnv.New64a()
	h.Write([]byte(project))
	h.Write([]byte{0})
	h.Write(traceID)
	return int64(h.Sum64())
}

// lockAll takes transaction-scoped advisory locks in ascending key order, the one order
// every writer uses, so that writers cannot deadlock on them.
func lockAll(ctx context.Context, tx pgx.Tx, keys []int64) error {
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	uniq := keys[:1]
	for _, k := range keys[1:] {
		if k != uniq[len(uniq)-1] {
			uniq = append(uniq, k)
		}
	}
	// A function scan yields the array in order, so the locks are taken in that order.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", uniq); err != nil {
		return fmt.Errorf("lock %d records: %w", len(uniq), err)
	}
	return nil
}
