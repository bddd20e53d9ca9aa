package pgstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/pgstore/pgtest"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// BenchmarkWriteSpans_TwoReplicas measures ingest through two stores (two replicas' pools)
// on one durable server (fsync and synchronous commit on): 16 concurrent callers, the
// spans of each trace spread over both replicas, children first. One op is one span.
func BenchmarkWriteSpans_TwoReplicas(b *testing.B) {
	for _, batch := range []int{1, 20, 200} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			srv := pgtest.StartWith(b, pgtest.Options{Durable: true})
			dsn := srv.NewDatabase(b)
			var replicas []*Store
			for i := 0; i < 2; i++ {
				s, err := Open(context.Background(), dsn, zap.NewNop(), Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				replicas = append(replicas, s)
			}
			var spans []store.Span
			for n := 0; len(spans) < b.N; n++ {
				specs := storetest.AgentTrace(n%60000+1, int64(n))
				for i, j := 0, len(specs)-1; i < j; i, j = i+1, j-1 {
					specs[i], specs[j] = specs[j], specs[i]
				}
				spans = append(spans, storetest.MakeSpans(b, fmt.Sprint("p", n/60000), specs...)...)
			}
			spans = spans[:b.N]
			const callers = 16
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for c := 0; c < callers; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for i := c * batch; i < len(spans); i += callers * batch {
						end := min(i+batch, len(spans))
						if err := replicas[(i/batch)%2].WriteSpans(context.Background(), spans[i:end]); err != nil {
							errs <- err
							return
						}
					}
				}(c)
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "spans/s")
		})
	}
}
