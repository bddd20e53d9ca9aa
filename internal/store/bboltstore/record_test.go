package bboltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/tracehound/tracehound/internal/store"
)

func storedJSON(t testing.TB, r *store.Record) string {
	t.Helper()
	b, err := json.Marshal(storedRecord{Record: r, Asm: &r.Assembly})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecordValue_RoundTrip(t *testing.T) {
	r := store.NewRecord("p1", "4b00000000000000000000000000aa01")
	r.Input = strings.Repeat(`What is "the" capital of France? ünïcödé 東京 `, 200)
	r.Output = "Paris.\n\t\\ done"
	r.Expected = "Paris"
	r.Assembly.InputMessages = `[{"role":"user","parts":[{"type":"text","content":"What is \"the\" capital?"}]}]`
	r.Assembly.OutputMessages = `[{"role":"assistant","parts":[{"type":"text","content":"Paris."}]}]`
	r.Assembly.DocID = 42
	r.Metadata["tenant"] = "t1"
	r.Models = append(r.Models, "gpt-4o")
	r.Usage.Input, r.CostUSD = 12, 0.5
	v, err := encodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != recordMarker {
		t.Fatalf("value starts with %#x, want the record marker", v[0])
	}
	got, err := decodeRecord(v)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := storedJSON(t, got), storedJSON(t, r); a != b {
		t.Fatalf("round trip changed the record:\n got %s\nwant %s", a, b)
	}
	// The large texts are stored outside the JSON, not also inside it.
	if strings.Count(string(mustDecompressRecord(t, v)), "capital of France") != 200 {
		t.Fatal("input stored more than once")
	}
}

func mustDecompressRecord(t *testing.T, v []byte) []byte {
	t.Helper()
	c := append([]byte{compressedMarker}, v[1:]...)
	b, err := decompress(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecodeRecord: a stored value that is not a record is an error, never a panic.
func FuzzDecodeRecord(f *testing.F) {
	r := store.NewRecord("p", "00")
	r.Input, r.Output = "in", "out"
	v, _ := encodeRecord(r)
	f.Add(v)
	f.Add([]byte(`{"id":"x","_asm":{"start_nanos":1}}`))
	f.Add([]byte{recordMarker, 0x05, 0x00})
	f.Add([]byte{compressedMarker})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeRecord(b)
	})
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
	if len(b.blocks) < 3 || len(b.blocks) != len(b.rawLen) {
		t.Fatalf("%d blocks (%d lengths) for %d spans", len(b.blocks), len(b.rawLen), len(spans))
	}
	decoded := make([][]byte, len(b.blocks))
	for k, blk := range b.blocks {
		if cap(blk) != len(blk) {
			t.Fatalf("block %d can grow into its neighbour (len %d, cap %d)", k, len(blk), cap(blk))
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
