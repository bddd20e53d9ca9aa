package bboltstore

import (
	"testing"

	"github.com/klauspost/compress/s2"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/benchcorpus"
	"github.com/tracehound/tracehound/internal/store"
)

// corpusRequest is one write request of the benchmark corpus (20 traces, ~95 spans), with
// its spans grouped by trace as prepare groups them.
func corpusRequest(tb testing.TB) ([]store.Span, []*preparedRecord) {
	tb.Helper()
	spans, err := store.FromTraces("p", benchcorpus.New(7).Batch(20, 1, nil), func(ptrace.Span) bool { return true })
	if err != nil {
		tb.Fatal(err)
	}
	byTrace := map[[16]byte]*preparedRecord{}
	var preps []*preparedRecord
	for i := range spans {
		p := byTrace[spans[i].TraceID]
		if p == nil {
			p = &preparedRecord{}
			byTrace[spans[i].TraceID] = p
			preps = append(preps, p)
		}
		p.spans = append(p.spans, i)
	}
	return spans, preps
}

// BenchmarkSpanBlocks compares compressing a request's spans one by one (schema 6) with
// compressing them in blocks (packSpans); ratio is stored bytes per OTLP byte.
func BenchmarkSpanBlocks(b *testing.B) {
	spans, preps := corpusRequest(b)
	raw := 0
	for i := range spans {
		raw += len(spans[i].Raw)
	}
	b.Run("span-by-span", func(b *testing.B) {
		b.SetBytes(int64(raw))
		stored := 0
		for b.Loop() {
			stored = 0
			for i := range spans {
				stored += len(compress(spans[i].Raw))
			}
		}
		b.ReportMetric(float64(stored)/float64(raw), "ratio")
	})
	b.Run("blocks", func(b *testing.B) {
		b.SetBytes(int64(raw))
		stored := 0
		for b.Loop() {
			stored = 0
			for _, blk := range packSpans(spans, preps).blocks {
				stored += len(blk)
			}
		}
		b.ReportMetric(float64(stored)/float64(raw), "ratio")
	})
}

// BenchmarkSpanBlocks_Read is the cost of reading one span of a block: the block is read and
// decompressed whole.
func BenchmarkSpanBlocks_Read(b *testing.B) {
	spans, preps := corpusRequest(b)
	blk := packSpans(spans, preps).blocks[0]
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		if _, err := s2.Decode(nil, blk); err != nil {
			b.Fatal(err)
		}
	}
}
