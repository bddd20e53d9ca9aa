package pgstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/pgstore/pgtest"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, zaptest.NewLogger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, srv.NewDatabase(t))
	})
}

// Replicas starting together against an empty database: each migration is applied once,
// every Open succeeds and sees the whole schema.
func TestOpen_ConcurrentReplicasMigrateOnce(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make(chan error, replicas)
	stores := make(chan *Store, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, zaptest.NewLogger(t), Options{})
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		}()
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Fatal(err)
	}
	var s *Store
	for st := range stores {
		s = st
		t.Cleanup(func() { _ = st.Close() })
	}
	var applied, max int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&applied, &max); err != nil {
		t.Fatal(err)
	}
	if applied != SchemaVersion() || max != SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to version %d, want %d", applied, max, SchemaVersion())
	}
}
