package bboltstore

import (
	"encoding/json"
	"strings"
	"testing"

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
