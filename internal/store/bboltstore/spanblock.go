package bboltstore

import (
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/tracehound/tracehound/internal/store"
)

// Span bodies are compressed in blocks: the spans a write request brings of one trace are
// compressed together, as one S2 block of up to blockBytes of OTLP bytes (a larger span is a
// block of its own). A span's pointer names its block and where its bytes are in the
// decompressed block (see appendBlockPointer).
//
// Why: the spans of a trace repeat each other — resource, scope and IDs, and in agent traces
// prompts: a wrapper span and the provider call under it carry the same messages, and each
// call of an agent resends the conversation so far. Compressed one by one, each span pays for
// them again. Stored bytes per OTLP byte, span by span → in blocks: benchmark corpus 0.42 →
// 0.34 (BenchmarkSpanBlocks); the shared fixtures' Vercel AI SDK request 0.73 → 0.49, the
// hand-written GenAI one 0.75 → 0.61. Compression costs the same per byte either way.
//
// Blocks stop at the trace because a trace is what is read together: its span tree reads all
// of its spans, an export one or two of them, and retention deletes them together. Reading a
// span decompresses its whole block (~10 µs for an agent trace of the corpus); bodyReader
// keeps the last block, so a span tree decompresses each block once.
const blockBytes = 32 << 10

// spanBodies are a write request's span bodies, compressed by the calling goroutine so that
// the single writer goroutine does not spend its time compressing.
type spanBodies struct {
	blocks [][]byte // S2 blocks
	crcs   []uint32 // each block's CRC-32C (crcTable)
	rawLen []int    // each block's length decompressed
	at     []bodyAt // per span of the request
}

// bodyAt places a span's OTLP bytes in a block; block is -1 for a span that no record takes
// (the same span twice in one request).
type bodyAt struct {
	block    int32
	start, n uint32
}

// packSpans compresses the bodies of the spans that preps take, in blocks of one trace.
func packSpans(spans []store.Span, preps []*preparedRecord) spanBodies {
	b := spanBodies{at: make([]bodyAt, len(spans))}
	total := 0
	for i := range b.at {
		b.at[i].block = -1
		total += len(spans[i].Raw)
	}
	rp := blockScratch.Get().(*[]byte)
	defer blockScratch.Put(rp)
	raw := (*rp)[:0] // the block being gathered
	var out []byte   // compressed blocks, back to back; one allocation for most requests
	flush := func() {
		if len(raw) == 0 {
			return
		}
		need := s2.MaxEncodedLen(len(raw))
		if cap(out)-len(out) < need {
			// Room for the rest at the usual ratio (spans compress to about a third).
			out = make([]byte, 0, max(need, total/3+1024))
		}
		enc := s2.Encode(out[len(out):cap(out)], raw)
		out = out[:len(out)+len(enc)]
		b.blocks = append(b.blocks, out[len(out)-len(enc):len(out):len(out)])
		b.crcs = append(b.crcs, crc32.Checksum(enc, crcTable))
		b.rawLen = append(b.rawLen, len(raw))
		total -= len(raw)
		raw = raw[:0]
	}
	for _, p := range preps {
		flush() // a block holds spans of one trace
		for _, i := range p.spans {
			r := spans[i].Raw
			if len(raw) > 0 && len(raw)+len(r) > blockBytes {
				flush()
			}
			b.at[i] = bodyAt{block: int32(len(b.blocks)), start: uint32(len(raw)), n: uint32(len(r))}
			raw = append(raw, r...)
		}
	}
	flush()
	if cap(raw) <= 4*blockBytes { // a rare huge span does not pin its buffer
		*rp = raw
	}
	return b
}

// blockScratch holds the buffers blocks are gathered in before they are compressed.
var blockScratch = sync.Pool{New: func() any { b := make([]byte, 0, blockBytes); return &b }}

// blockShare is the part of a block's stored bytes that a span's pointer counts as live: the
// block's stored bytes cut where its spans' bytes are cut, so that the shares of a block add
// up to its stored length, and at least one, so that a segment never looks empty while a
// pointer into it is left.
func blockShare(stored, rawLen int, at bodyAt) int64 {
	if rawLen == 0 {
		return 1
	}
	cut := func(raw uint32) int64 { return int64(stored) * int64(raw) / int64(rawLen) }
	return max(1, cut(at.start+at.n)-cut(at.start))
}
