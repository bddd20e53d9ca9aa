package bboltstore

import (
	"bytes"
	"fmt"
	"hash/crc32"
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

func TestPackSpans_EachSpanReadsBackFromItsBlock(t *testing.T) {
	var spans []store.Span
	for i := range 40 {
		// Sizes from empty to larger than a block, text that compresses and bytes that do
		// not.
		raw := bytes.Repeat([]byte(fmt.Sprintf("span %d says hello; ", i)), i*i)
		if i%5 == 0 {
			raw = make([]byte, 3000*i)
			for j := range raw {
				raw[j] = byte(j*7919 + i)
			}
		}
		spans = append(spans, store.Span{Raw: raw})
	}
	// Three "traces" taking the spans out of order; span 7 is taken by none (a duplicate).
	preps := []*preparedRecord{{spans: []int{39, 3, 20}}, {}, {}}
	for i := range spans {
		if i != 7 && i != 39 && i != 3 && i != 20 {
			preps[1+i%2].spans = append(preps[1+i%2].spans, i)
		}
	}
	b := packSpans(spans, preps)
	if len(b.blocks) < 3 || len(b.blocks) != len(b.rawLen) || len(b.blocks) != len(b.crcs) {
		t.Fatalf("%d blocks (%d lengths, %d checksums) for %d spans", len(b.blocks), len(b.rawLen), len(b.crcs), len(spans))
	}
	decoded := make([][]byte, len(b.blocks))
	for k, blk := range b.blocks {
		if cap(blk) != len(blk) {
			t.Fatalf("block %d can grow into its neighbour (len %d, cap %d)", k, len(blk), cap(blk))
		}
		if crc32.Checksum(blk, crcTable) != b.crcs[k] {
			t.Fatalf("block %d: checksum %08x, its bytes' %08x", k, b.crcs[k], crc32.Checksum(blk, crcTable))
		}
		raw, err := s2.Decode(nil, blk)
		if err != nil || len(raw) != b.rawLen[k] {
			t.Fatalf("block %d: %d bytes, %v; want %d", k, len(raw), err, b.rawLen[k])
		}
		decoded[k] = raw
	}
	shares, inBlock := make([]int64, len(b.blocks)), make([]int64, len(b.blocks))
	next := 0 // spans are placed in the order the preps take them
	owner := map[int32]int{}
	for pi, p := range preps {
		for _, i := range p.spans {
			at := b.at[i]
			if o, ok := owner[at.block]; ok && o != pi {
				t.Fatalf("block %d holds spans of two traces (%d and %d)", at.block, o, pi)
			}
			owner[at.block] = pi
			if at.block < int32(next) {
				t.Fatalf("span %d in block %d, after a span in block %d", i, at.block, next)
			}
			next = int(at.block)
			if got := decoded[at.block][at.start : at.start+at.n]; !bytes.Equal(got, spans[i].Raw) {
				t.Fatalf("span %d: %d bytes read back, want %d", i, len(got), len(spans[i].Raw))
			}
			if b.rawLen[at.block] > blockBytes && int(at.n) != b.rawLen[at.block] {
				t.Fatalf("span %d shares a block of %d bytes, more than %d", i, b.rawLen[at.block], blockBytes)
			}
			if s := blockShare(len(b.blocks[at.block]), b.rawLen[at.block], at); s < 1 {
				t.Fatalf("span %d counts %d live bytes", i, s)
			}
			shares[at.block] += blockShare(len(b.blocks[at.block]), b.rawLen[at.block], at)
			inBlock[at.block]++
		}
	}
	for k, got := range shares {
		// Only a span too small for a byte of its own counts one byte more.
		if want := int64(len(b.blocks[k])); got < want || got > want+inBlock[k] {
			t.Errorf("block %d: its spans count %d live bytes, it has %d", k, got, want)
		}
	}
	if b.at[7].block != -1 {
		t.Fatalf("span 7, taken by no record, was packed: %+v", b.at[7])
	}
}
